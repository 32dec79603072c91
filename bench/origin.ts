// The benchmark's origin server, run as its own process (`node out/bench/origin.js`) so that its
// CPU never competes with the harness's event loop and can be read from /proc/PID/stat.
//   GET /small -> 1 KiB body      GET /big -> 100 MiB body, streamed from one reused buffer
//   GET /      -> 200 (readiness)  POST/PUT any path -> body drained, byte count returned
//   GET /__stats -> {"connections":N,"requests":N} since start (is the agent reusing connections?)
// Prints `origin listening on 127.0.0.1:<port>` once bound; exits when its stdin closes, so a
// harness killed with SIGKILL does not leave it behind.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export const SMALL_BYTES = 1024;
export const BIG_BYTES = 100 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

const small = Buffer.alloc(SMALL_BYTES, 'a');
const stats = { connections: 0, requests: 0 };
const chunk = Buffer.alloc(CHUNK_BYTES, 'b');

/** Writes BIG_BYTES of the same chunk, honouring backpressure so the origin never buffers. */
function streamBig(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG_BYTES });
  let left = BIG_BYTES;
  const pump = (): void => {
    while (left > 0) {
      const piece = left >= CHUNK_BYTES ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    left = 0; // client went away: stop producing
  });
  pump();
}

function drainUpload(req: http.IncomingMessage, res: http.ServerResponse): void {
  let bytes = 0;
  req.on('data', (data: Buffer) => {
    bytes += data.length;
  });
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ bytes }));
  });
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  stats.requests++;
  if (req.method === 'POST' || req.method === 'PUT') return drainUpload(req, res);
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405).end();
  } else if (path === '/small') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': SMALL_BYTES }).end(small);
  } else if (path === '/big') {
    streamBig(res);
  } else if (path === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
  } else if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('portway bench origin\n');
  } else {
    res.writeHead(404).end();
  }
}

function main(): void {
  const server = http.createServer(handle);
  server.on('connection', () => {
    stats.connections++;
  });
  // wrk holds its connections for the whole run; never let the server cut them short.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`origin listening on 127.0.0.1:${port}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
}

if (require.main === module) main();
