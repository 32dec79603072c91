// A reference point for the benchmark, not part of Portway: the plainest TCP forwarder Node can
// run (`node out/bench/pipe-hop.js TARGET_PORT`, each connection piped to 127.0.0.1:TARGET_PORT).
// Two of these in series have the same process shape as relay + agent (two extra Node processes,
// four extra loopback hops per round trip) with none of the work: no HTTP parsing, no routing, no
// WebSocket, no multiplexing. What two of them reach on a machine shows what that shape alone costs.
// Prints `pipe hop listening on 127.0.0.1:<port>` once bound; exits when its stdin closes.
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

function main(): void {
  const target = Number(process.argv[2]);
  if (!Number.isInteger(target) || target < 1 || target > 65535) {
    process.stderr.write(`usage: pipe-hop.js TARGET_PORT (got ${process.argv[2]})\n`);
    process.exit(2);
  }
  const server = net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: target, noDelay: true });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`pipe hop listening on 127.0.0.1:${port}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
}

if (require.main === module) main();
