import * as net from 'node:net';

/**
 * A stand-in for a load balancer that speaks PROXY protocol v1 (as HAProxy or an ingress
 * would): accepts on 127.0.0.1, connects to the relay from `fromAddress` (the trusted proxy's
 * address) and sends a PROXY header naming the real client before its bytes.
 */
export async function startProxyProtocolForwarder(relayPort: number, fromAddress: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: relayPort, localAddress: fromAddress }, () => {
      upstream.write(`PROXY TCP4 ${client.remoteAddress?.replace(/^::ffff:/, '')} 127.0.0.1 ${client.remotePort} ${relayPort}\r\n`);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (s === client ? upstream : client).destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
