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
  return `${host}:${port}`;
}
