import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { normalizeAddress } from '../../../common/net/client-address';
import { readServerNameFromSocket } from './client-hello';
import type { OwnCertificate } from './own-certificate';
import { routeServerName, type SniDecision, type SniRoutingContext } from './sni-routing';
import { passTlsThrough } from './tls-pass-through';
import { counters } from '../admin/counters';
import type { ClusteredHttpsPort, TlsElsewhere } from '../cluster/tunnels-elsewhere';

/** A client that has not sent its whole ClientHello in this long is dropped. */
export const CLIENT_HELLO_TIMEOUT_MS = 10_000;

interface Visitor {
  address: string;
  port: number;
}

export interface HttpsListenerOptions {
  host: string;
  port: number;
  routing: Omit<SniRoutingContext, 'terminates'>;
  /** The relay's certificates for its own names (given, or ACME); without, only pass-through routes are served. */
  ownCertificate?: OwnCertificate;
  /** Serves a decrypted connection exactly like one on the HTTP port; `forwardedFor`: the visitor another relay forwarded. */
  serveDecrypted(socket: Duplex, forwardedFor?: Visitor): void;
  log(line: string): void;
  /** A passed-through connection one side half-closed ends once idle this long (the relay's idle timeout). */
  idleTimeoutMs?: number;
}

/**
 * The relay's HTTPS port: reads only the ClientHello's SNI, then passes the raw TLS through to
 * the agent (routes that do TLS themselves), terminates it with the relay's certificate for
 * that name (its own names: --tls-cert or ACME), or closes the connection. In a cluster, a name
 * whose tunnel is held by another relay goes there raw (`elsewhere`), and connections other
 * relays forward are served here as if the visitor had connected (serveFromPeer).
 */
export class HttpsListener implements ClusteredHttpsPort {
  /** With --redis: where a connection goes whose tunnel this relay does not hold. */
  elsewhere: TlsElsewhere | undefined;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: HttpsListenerOptions) {
    // Half-open: a client's FIN travels to the far end while the answer may still be coming.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.onConnection(socket));
  }

  async listen(): Promise<net.AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as net.AddressInfo;
  }

  /** Draining: new connections are refused; those accepted (pass-through or decrypted) go on. */
  stopAccepting(): void {
    this.server.close();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  serveFromPeer(socket: net.Socket, client: Visitor, unread: Buffer): void {
    socket.allowHalfOpen = true; // as on this port's own connections
    if (unread.length > 0) socket.unshift(unread);
    this.onConnection(socket, client);
  }

  /** `forwardedFor`: the visitor of a connection another relay forwarded. */
  private onConnection(socket: net.Socket, forwardedFor?: Visitor): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    readServerNameFromSocket(socket, CLIENT_HELLO_TIMEOUT_MS).then(
      (peek) => this.dispatch(socket, peek.serverName, peek.buffered, forwardedFor),
      () => socket.destroy(),
    );
  }

  private dispatch(socket: net.Socket, serverName: string | undefined, clientHello: Buffer, forwardedFor: Visitor | undefined): void {
    const { ownCertificate } = this.options;
    const terminates = (name: string) => ownCertificate?.covers(name) ?? false;
    const decision = routeServerName(serverName, { ...this.options.routing, terminates });
    const visitor = forwardedFor ?? { address: normalizeAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    // Another relay's forward is never forwarded again (elsewhere checks): no loops.
    if (decision.kind !== 'pass-through' && decision.offlineTunnel !== undefined && this.elsewhere) {
      const target = { hostname: decision.offlineTunnel, clientAddress: visitor.address, clientPort: visitor.port };
      return this.elsewhere.forwardTls(socket, clientHello, target, () => this.settle(socket, serverName, clientHello, decision, visitor, forwardedFor));
    }
    this.settle(socket, serverName, clientHello, decision, visitor, forwardedFor);
  }

  /** Carries out the decision on this relay. */
  private settle(socket: net.Socket, serverName: string | undefined, clientHello: Buffer, decision: SniDecision, visitor: Visitor, forwardedFor: Visitor | undefined): void {
    const { ownCertificate } = this.options;
    const clientAddress = visitor.address;
    switch (decision.kind) {
      case 'refuse':
        return void socket.destroy();
      case 'terminate':
        // allowHalfOpen suits raw pass-through; an HTTP server manages its own connection ends.
        socket.allowHalfOpen = false;
        return this.options.serveDecrypted(ownCertificate!.terminate(socket, clientHello, serverName!), forwardedFor);
      case 'pass-through': {
        const name = serverName!;
        // The route's firewall, before any byte reaches the agent.
        if (decision.session.routes.httpFirewall(name)?.allows(clientAddress) === false) {
          counters.firewallRefusals++;
          return void socket.destroy();
        }
        return passTlsThrough(socket, clientHello, decision.session, {
          kind: 'tls',
          serverName: name,
          remoteAddress: clientAddress,
          remotePort: visitor.port,
        }, this.options.idleTimeoutMs);
      }
    }
  }
}
