import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** A visitor's request for a tunnel this relay does not hold, and who the visitor is. */
export interface ElsewhereTarget {
  /** The tunnel's hostname (what the lease is named by). */
  hostname: string;
  /** The normalised host the request named. */
  host: string;
  /** The real client address (after trusted proxies), for the owner's firewall. */
  clientAddress: string;
}

/**
 * The relay server's one hook into the cluster: "no local tunnel for this host → ask the
 * cluster". `notHeld` answers as a lone relay would (no relay holds the tunnel).
 */
export interface TunnelsElsewhere {
  forwardRequest(req: IncomingMessage, res: ServerResponse, target: ElsewhereTarget, notHeld: () => void): void;
  forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ElsewhereTarget, notHeld: () => void): void;
}

/** A TLS connection on the HTTPS port whose server name is a tunnel this relay does not hold. */
export interface TlsElsewhereTarget {
  /** The tunnel's hostname (what the lease is named by). */
  hostname: string;
  /** The visitor, for the holder's firewall. */
  clientAddress: string;
  clientPort: number;
}

/**
 * The HTTPS port's hook into the cluster: the raw connection (its ClientHello, already read,
 * replayed first) goes to the holder's HTTPS port over the cluster port; `notHeld` answers as a
 * lone relay would.
 */
export interface TlsElsewhere {
  forwardTls(socket: Socket, clientHello: Buffer, target: TlsElsewhereTarget, notHeld: () => void): void;
}

/** A relay's HTTPS port as the cluster sees it: it forwards through `elsewhere` and serves what other relays forward. */
export interface ClusteredHttpsPort {
  elsewhere: TlsElsewhere | undefined;
  /** Serves a TLS connection another relay forwarded (`unread`: its first bytes, the ClientHello) for this visitor. */
  serveFromPeer(socket: Socket, client: { address: string; port: number }, unread: Buffer): void;
}
