import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

/** Deterministic bytes for large-body tests: the same generator on both ends gives a checksum to compare. */
export function patternChunk(size = 64 * 1024): Buffer {
  const chunk = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) chunk[i] = (i * 31 + 7) & 0xff;
  return chunk;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of `total` bytes made of repeated patternChunk()s. */
export function patternDigest(total: number): string {
  const chunk = patternChunk();
  const hash = createHash('sha256');
  for (let sent = 0; sent < total; sent += chunk.length) hash.update(chunk.subarray(0, Math.min(chunk.length, total - sent)));
  return hash.digest('hex');
}

export interface TestOrigin {
  port: number;
  server: http.Server;
  /** Lets the SSE endpoint send its next event (so a test can prove events arrive one by one). */
  releaseNextEvent(): void;
  close(): Promise<void>;
}

/**
 * A local service to put behind the tunnel:
 *   /echo-headers  → JSON of the request line and headers
 *   /upload (POST) → sha256 and size of the body
 *   /big?bytes=N   → N pattern bytes, streamed
 *   /sse           → server-sent events, each sent only after releaseNextEvent()
 *   WebSocket on any path → echoes messages
 */
export async function startOrigin(): Promise<TestOrigin> {
  const pendingReleases: (() => void)[] = [];
  let released = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin');
    if (url.pathname === '/echo-headers') {
      res.setHeader('content-type', 'application/json');
      return void res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders }));
    }
    if (url.pathname === '/upload') {
      const hash = createHash('sha256');
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        hash.update(c);
      });
      req.on('end', () => res.end(JSON.stringify({ size, sha256: hash.digest('hex') })));
      return;
    }
    if (url.pathname === '/big') {
      const total = Number(url.searchParams.get('bytes') ?? 100 * 1024 * 1024);
      const chunk = patternChunk();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    if (url.pathname === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const next = () => {
        n++;
        res.write(`data: event ${n}\n\n`);
        if (n < 3) waitRelease(next);
        else res.end();
      };
      return waitRelease(next);
    }
    res.setHeader('content-type', 'text/plain');
    res.end(`hello from origin ${req.url}`);
  });
  function waitRelease(fn: () => void): void {
    if (released > 0) {
      released--;
      fn();
    } else pendingReleases.push(fn);
  }
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    releaseNextEvent() {
      const fn = pendingReleases.shift();
      if (fn) fn();
      else released++;
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
