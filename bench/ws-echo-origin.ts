// The origin of `npm run bench -- --connections`, run as its own process: GET / answers "ok",
// a WebSocket upgrade on any path echoes every message back. Prints
// `origin listening on 127.0.0.1:<port>` once bound; exits when its stdin closes.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

const server = http.createServer({ keepAliveTimeout: 0 }, (_req, res) => res.end('ok'));
server.keepAliveTimeout = 0; // the visitors' idle keep-alive connections are the point: never close them
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
server.listen(0, '127.0.0.1', () => {
  console.log(`origin listening on 127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
