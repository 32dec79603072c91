/**
 * The port other relays forward visitors to (--cluster-port). A connection starts with the
 * cluster preamble (cluster-preamble.ts); once it is verified, the rest of the connection is the
 * visitor's HTTP, served by the relay as if the visitor had connected here, from the address the
 * preamble names. Anything else is cut off without an answer.
 */
import * as net from 'node:net';
import { MAX_PREAMBLE_BYTES, parsePreamble, type PooledPreamble, type PreambleClient } from './cluster-preamble';

/** A peer that connects must send its preamble within this. */
const PREAMBLE_TIMEOUT_MS = 5_000;

/** Serves a verified peer connection; `unread` are the bytes after the preamble. */
export type ServeFromPeer = (socket: net.Socket, client: PreambleClient | PooledPreamble, unread: Buffer) => void;

export class ClusterPort {
  private readonly server: net.Server;
  private readonly fromPeers = new WeakSet<object>();
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly proof: Buffer,
    private readonly serve: ServeFromPeer,
    private readonly log: (line: string) => void,
  ) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
  }

  /** Whether a connection came from another relay (its requests are never forwarded again). */
  isFromPeer(socket: object): boolean {
    return this.fromPeers.has(socket);
  }

  listen(port: number, host: string): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(PREAMBLE_TIMEOUT_MS, () => socket.destroy());
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\n');
      if (end < 0) {
        if (received.length > MAX_PREAMBLE_BYTES) this.refuse(socket, 'preamble too long');
        return;
      }
      socket.off('data', onData);
      socket.pause();
      socket.setTimeout(0);
      const client = parsePreamble(received.subarray(0, end).toString('latin1').replace(/\r$/, ''), this.proof);
      if ('error' in client) return this.refuse(socket, client.error);
      this.fromPeers.add(socket);
      this.serve(socket, client, received.subarray(end + 1));
    };
    socket.on('data', onData);
  }

  private refuse(socket: net.Socket, reason: string): void {
    this.log(`cluster: refused a connection from ${socket.remoteAddress ?? '?'} on the cluster port: ${reason}`);
    socket.destroy();
  }
}
