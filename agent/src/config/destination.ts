import * as net from 'node:net';

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export class DestinationError extends Error {
  constructor(text: string) {
    super(`"${text}" is not an IP address or host name`);
    this.name = 'DestinationError';
  }
}

/**
 * Where a route sends its traffic (HTTP or TCP): an IP address (IPv6 with or without brackets)
 * or a host name, lower-cased; anything else is refused before it reaches the config file.
 */
export function normalizeDestination(text: string): string {
  const trimmed = text.trim();
  const bare = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  if (net.isIP(bare) !== 0 || HOSTNAME.test(bare)) return bare.toLowerCase();
  throw new DestinationError(text);
}
