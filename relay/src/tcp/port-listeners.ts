import * as net from 'node:net';

interface PortListener {
  server: net.Server;
  identity: string;
  sockets: Set<net.Socket>;
  /** Settles once the port is bound (true) or could not be (false). */
  ready: Promise<boolean>;
}

/**
 * The relay's listening sockets on allocated TCP ports, each opened for one identity while its
 * tunnel is online. Accepted connections go to `onConnection`; closing a port also ends the
 * connections it accepted.
 */
export class PortListeners {
  private readonly listeners = new Map<number, PortListener>();
  /** False once the relay drains: no port listens any more, connections already accepted go on. */
  private accepting = true;

  constructor(
    private readonly host: string,
    private readonly onConnection: (port: number, socket: net.Socket) => void,
    private readonly log: (line: string) => void,
  ) {}

  /** Listens on the port for this identity (idempotent); false when the port cannot be bound. */
  open(identity: string, port: number): Promise<boolean> {
    if (!this.accepting) return Promise.resolve(false);
    const existing = this.listeners.get(port);
    if (existing?.identity === identity) return existing.ready;
    if (existing) this.close(port);
    const sockets = new Set<net.Socket>();
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      this.onConnection(port, socket);
    });
    const ready = new Promise<boolean>((resolve) => {
      server.once('error', (err) => {
        this.log(`tcp port ${port}: cannot listen (${err.message})`);
        if (this.listeners.get(port)?.server === server) this.listeners.delete(port);
        resolve(false);
      });
      server.listen({ port, host: this.host }, () => {
        this.log(`tcp port ${port}: listening`);
        resolve(true);
      });
    });
    this.listeners.set(port, { server, identity, sockets, ready });
    return ready;
  }

  /** Stops listening on the port and ends its connections. */
  close(port: number): void {
    const listener = this.listeners.get(port);
    if (!listener) return;
    this.listeners.delete(port);
    const wasListening = listener.server.listening;
    listener.server.close();
    for (const socket of listener.sockets) socket.destroy();
    if (wasListening) this.log(`tcp port ${port}: closed`);
  }

  /** Closes every port of this identity (its tunnel went offline). */
  closeIdentity(identity: string): void {
    for (const [port, listener] of [...this.listeners]) if (listener.identity === identity) this.close(port);
  }

  /** The relay drains: stop listening everywhere (new connections are refused), keep those accepted. */
  stopAccepting(): void {
    this.accepting = false;
    for (const [port, listener] of this.listeners) {
      listener.server.close();
      this.log(`tcp port ${port}: draining, new connections refused`);
    }
  }

  closeAll(): void {
    for (const port of [...this.listeners.keys()]) this.close(port);
  }
}

/** Whether this relay could listen on host:port right now (nothing else holds it). */
export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host }, () => probe.close(() => resolve(true)));
  });
}
