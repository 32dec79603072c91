import { isIPv6 } from 'node:net';

/**
 * host:port as URLs and Host headers write it (RFC 3986 §3.2.2): an IPv6 address in brackets,
 * so "::1" and 36809 give "[::1]:36809", never the ambiguous "::1:36809". Every place that
 * builds a host:port (Host rewrite on both agent paths, origin URLs, messages) goes through here.
 */
export function formatHostPort(host: string, port: number): string {
  return `${bracketed(host)}:${port}`;
}

/** The host alone as it stands in a URL or Host header: IPv6 in brackets, names and IPv4 as they are. */
export function bracketed(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/** A Host header for an origin: the port left out when it is the scheme's default (80 for http). */
export function hostHeaderFor(host: string, port: number, defaultPort = 80): string {
  return port === defaultPort ? bracketed(host) : formatHostPort(host, port);
}
