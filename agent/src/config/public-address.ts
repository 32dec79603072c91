import { formatHostPort } from '../../../common/net/host-port';

/** Public URL of a domain served by the relay at relayUrl: the relay's scheme and port. */
export function publicUrl(relayUrl: string, domain: string): string {
  let text = relayUrl.trim();
  if (!/^[a-z]+:\/\//i.test(text)) text = `http://${text}`;
  try {
    const url = new URL(text);
    const secure = url.protocol === 'https:' || url.protocol === 'wss:';
    return `${secure ? 'https' : 'http'}://${domain}${url.port ? `:${url.port}` : ''}/`;
  } catch {
    return `http://${domain}/`;
  }
}

/** Public address of a TCP port: the agent's hostname (else the relay's host name) and the port. */
export function publicTcpAddress(relayUrl: string, hostname: string | undefined, port: number): string {
  let host = hostname;
  if (!host) {
    try {
      host = new URL(/^[a-z]+:\/\//i.test(relayUrl) ? relayUrl : `http://${relayUrl}`).hostname;
    } catch {
      host = relayUrl;
    }
  }
  return formatHostPort(host, port);
}
