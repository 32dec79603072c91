import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { patternChunk } from './origin';

/**
 * `count` consecutive ports below the kernel's ephemeral range that 127.0.0.1 can bind right now,
 * for a relay's test-only --tcp-ports (so parallel tests do not share a range).
 */
export async function freePortRange(count: number): Promise<{ first: number; last: number; flag: string }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = 24_000 + Math.floor(Math.random() * (32_000 - 24_000 - count));
    if (await allBindable(first, count)) return { first, last: first + count - 1, flag: `${first}-${first + count - 1}` };
  }
  throw new Error(`found no ${count} consecutive free ports`);
}

async function allBindable(first: number, count: number): Promise<boolean> {
  const servers: net.Server[] = [];
  try {
    for (let port = first; port < first + count; port++) {
      const server = net.createServer();
      servers.push(server);
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (!bound) return false;
    }
    return true;
  } finally {
    await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** A TCP service that writes back whatever it reads (half-close aware), counting its connections. */
export interface EchoService {
  port: number;
  connections: number;
  close(): Promise<void>;
}

export async function startEchoService(): Promise<EchoService> {
  const sockets = new Set<net.Socket>();
  const service = { port: 0, connections: 0, close: async () => undefined as void };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    service.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.port = (server.address() as net.AddressInfo).port;
  service.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return service;
}

/** A TCP service that greets each connection with `banner` and closes. */
export async function startBannerService(banner: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(banner);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ExchangeResult {
  /** Every byte received until the connection closed. */
  received: Buffer;
  /** The connection error, e.g. ECONNREFUSED or ECONNRESET; undefined for a clean close. */
  errorCode?: string;
}

/** Connects (from localAddress), sends payload, half-closes, and collects the answer until close. */
export function tcpExchange(port: number, payload: Buffer | string, localAddress = '127.0.0.1'): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let errorCode: string | undefined;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => (errorCode ??= err.code ?? err.message));
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), errorCode }));
    socket.end(payload);
  });
}

/**
 * Streams `total` pattern bytes to port while reading what comes back; resolves with the size and
 * sha256 of what came back once the peer closed its side (the client half-closes after sending).
 */
export function streamThrough(port: number, total: number): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      hash.update(chunk);
    });
    socket.on('end', () => resolve({ size, sha256: hash.digest('hex') }));
    socket.on('error', reject);
    const chunk = patternChunk();
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += piece.length;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    socket.once('connect', pump);
  });
}
