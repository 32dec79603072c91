/**
 * The client address of a request as the firewall, the rate limits and the agent see it: the
 * socket peer (or the client a trusted PROXY header named), unless that sender is a trusted proxy,
 * whose X-Forwarded-For (or Forwarded) is then believed. Always normalised (`::ffff:1.2.3.4` →
 * `1.2.3.4`), so an IPv4 rule catches a mapped address.
 *
 * Both paths decide here: the full path hands over Node's parsed headers (factsOfRequest), the
 * fast path the values its own head parser collected (factsFor).
 */
import type { IncomingMessage } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { normalizeAddress } from '../../../common/net/client-address';
import { clientAddressFor, forwardedForHeader, TrustedProxies } from './trusted-proxies';

/** The forwarding headers of one request, repeated ones joined with ", " (as Node joins them). */
export interface ForwardingClaims {
  xForwardedFor?: string;
  forwarded?: string;
  xForwardedProto?: string;
}

/** Who a request comes from, as the relay forwards it. */
export interface ClientFacts {
  /** The real client: what the firewall judges and the agent is told. */
  clientAddress: string;
  /** The X-Forwarded-For to send on: a trusted sender's chain plus the sender, else the sender. */
  forwardedFor: string;
  proto: 'http' | 'https';
}

export class ClientAddressResolver {
  private readonly proxySources = new WeakMap<Socket, string>();
  /** Connections from another relay of a cluster (pooled): each request names its client in this header. */
  private readonly clientHeaders = new WeakMap<Socket, string>();

  constructor(readonly trusted: TrustedProxies) {}

  /** Records the client a (trusted) PROXY header named for this connection. */
  setProxySource(socket: Socket, address: string): void {
    this.proxySources.set(socket, normalizeAddress(address));
  }

  /** Takes each request's client on this (authenticated) connection from `header` (cluster/peer-forwarder.ts). */
  setClientHeader(socket: Socket, header: string): void {
    this.clientHeaders.set(socket, header);
  }

  /** Whoever connected to the relay: the PROXY header's client, else the socket's peer. */
  senderOf(socket: Socket): string {
    return this.proxySources.get(socket) ?? normalizeAddress(socket.remoteAddress ?? '');
  }

  /**
   * The facts of a request from `sender` (normalised) carrying `claims`, which are believed only
   * when the sender is a trusted proxy; the one decision both paths take.
   */
  factsFor(sender: string, claims: ForwardingClaims, socketProto: 'http' | 'https'): ClientFacts {
    const senderTrusted = this.trusted.isTrusted(sender);
    return {
      clientAddress: clientAddressFor({ socketAddress: sender, xForwardedFor: claims.xForwardedFor, forwarded: claims.forwarded, trusted: this.trusted }),
      forwardedFor: forwardedForHeader(claims.xForwardedFor, sender, senderTrusted),
      proto: senderTrusted ? claimedProto(claims.xForwardedProto) ?? socketProto : socketProto,
    };
  }

  /** The real client of a request. */
  clientOf(req: IncomingMessage): string {
    return this.factsOfRequest(req, 'http').clientAddress;
  }

  /**
   * All the facts of a full-path request at once. The scheme is a trusted sender's
   * X-Forwarded-Proto (a TLS-terminating nginx says https), else what the relay's socket saw.
   */
  factsOfRequest(req: IncomingMessage, socketProto: 'http' | 'https'): ClientFacts {
    const { headers } = req;
    const claims = { xForwardedFor: joined(headers['x-forwarded-for']), forwarded: joined(headers.forwarded), xForwardedProto: joined(headers['x-forwarded-proto']) };
    return this.factsFor(this.senderOfRequest(req), claims, socketProto);
  }

  /** The sender of one request: the client its cluster header names, on a pooled connection from another relay. */
  private senderOfRequest(req: IncomingMessage): string {
    const header = this.clientHeaders.get(req.socket);
    const named = header === undefined ? undefined : req.headers[header];
    return typeof named === 'string' && isIP(named) !== 0 ? normalizeAddress(named) : this.senderOf(req.socket);
  }
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The first X-Forwarded-Proto value, when it names a scheme the relay knows. */
function claimedProto(header: string | undefined): 'http' | 'https' | undefined {
  const first = header?.split(',')[0].trim().toLowerCase();
  return first === 'https' || first === 'http' ? first : undefined;
}
