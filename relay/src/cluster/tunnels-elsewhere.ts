import type { IncomingMessage, ServerResponse } from 'node:http';
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
