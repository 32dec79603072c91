import { CONNECT_PATH } from '../../../protocol/control';

export class RelayUrlError extends Error {}

/** "https://relay.example.com" (or ws/wss, or a bare host:port) → the agent's WebSocket URL. */
export function connectUrl(relayUrl: string): string {
  let text = relayUrl.trim();
  if (!/^[a-z]+:\/\//i.test(text)) text = `http://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RelayUrlError(`"${relayUrl}" is not a valid relay URL (expected e.g. https://relay.example.com)`);
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[url.protocol];
  if (!scheme) throw new RelayUrlError(`unsupported relay URL scheme "${url.protocol}" (use http, https, ws or wss)`);
  url.protocol = scheme;
  url.pathname = CONNECT_PATH;
  url.search = '';
  url.hash = '';
  return url.toString();
}
