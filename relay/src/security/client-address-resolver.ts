/**
 * The client address of a request as the firewall, the rate limits and the agent see it: the
 * socket peer (or the client a trusted PROXY header named), unless that sender is a trusted proxy,
 * whose X-Forwarded-For (or Forwarded) is then believed. Always normalised (`::ffff:1.2.3.4` →
 * `1.2.3.4`), so an IPv4 rule catches a mapped address.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { normalizeAddress } from '../../../common/net/client-address';
import { clientAddressFor, forwardedForHeader, TrustedProxies } from './trusted-proxies';

export class ClientAddressResolver {
  private readonly proxySources = new WeakMap<Socket, string>();

  constructor(readonly trusted: TrustedProxies) {}

  /** Records the client a (trusted) PROXY header named for this connection. */
  setProxySource(socket: Socket, address: string): void {
    this.proxySources.set(socket, normalizeAddress(address));
  }

  /** Whoever connected to the relay: the PROXY header's client, else the socket's peer. */
  senderOf(socket: Socket): string {
    return this.proxySources.get(socket) ?? normalizeAddress(socket.remoteAddress ?? '');
  }

  /** The real client of a request. */
  clientOf(req: IncomingMessage): string {
    return clientAddressFor({
      socketAddress: this.senderOf(req.socket),
      xForwardedFor: req.headers['x-forwarded-for'],
      forwarded: req.headers.forwarded,
      trusted: this.trusted,
    });
  }

  /**
   * The scheme the client used: a trusted sender's X-Forwarded-Proto (a TLS-terminating nginx
   * says https), else what the relay's own socket saw. An untrusted sender's claim is ignored.
   */
  protoOf(req: IncomingMessage, socketProto: 'http' | 'https'): 'http' | 'https' {
    if (!this.trusted.isTrusted(this.senderOf(req.socket))) return socketProto;
    const header = req.headers['x-forwarded-proto'];
    const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0].trim().toLowerCase();
    return first === 'https' || first === 'http' ? first : socketProto;
  }

  /** The X-Forwarded-For to send to the agent: a trusted sender's chain plus the sender, else just the sender. */
  forwardedFor(req: IncomingMessage): string {
    const sender = this.senderOf(req.socket);
    return forwardedForHeader(req.headers['x-forwarded-for'], sender, this.trusted.isTrusted(sender));
  }
}
