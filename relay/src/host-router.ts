import { isIP } from 'node:net';

/** How many hosts under the apex the router remembers the tunnel of. */
const MAX_REMEMBERED_HOSTS = 1024;
/** The longest DNS name (RFC 1035): longer hosts are routed but not remembered. */
const MAX_NAME_LENGTH = 253;

/** Where a request's Host points (shared objects: not to be changed). */
export type HostTarget =
  | { kind: 'relay' } // the apex domain or a bare address: the relay's own endpoints
  | { kind: 'tunnel'; hostname: string } // an assigned hostname or any subdomain of it
  | { kind: 'unknown' };

/**
 * Maps a normalised Host to a tunnel. `blog.small-fire-20477.example.com` belongs to the
 * tunnel `small-fire-20477.example.com`: the label right before the apex names the tunnel.
 */
export class HostRouter {
  private readonly suffix: string;
  /**
   * Tunnels of hosts under the apex, worked out once: every request is routed, and a kept-alive
   * connection asks for the same host each time. The same hostname string then comes back too, so
   * its hash is not computed again by the lookups that follow. Bounded: emptied when full.
   */
  private readonly underApex = new Map<string, HostTarget>();

  /**
   * @param customDomainTunnel for a host outside the apex: the assigned hostname of the tunnel
   *   whose identity verified that domain (or a parent of it), if any.
   */
  constructor(
    private readonly domain: string,
    private readonly customDomainTunnel: (host: string) => string | undefined = () => undefined,
  ) {
    this.suffix = `.${domain}`;
  }

  route(host: string): HostTarget {
    if (host === this.domain || host === '' || isAddress(host)) return { kind: 'relay' };
    if (!host.endsWith(this.suffix)) {
      const hostname = this.customDomainTunnel(host);
      return hostname === undefined ? { kind: 'unknown' } : { kind: 'tunnel', hostname };
    }
    const known = this.underApex.get(host);
    if (known) return known;
    const prefix = host.slice(0, -this.suffix.length);
    const lastDot = prefix.lastIndexOf('.');
    const label = lastDot < 0 ? prefix : prefix.slice(lastDot + 1);
    if (!label) return { kind: 'unknown' };
    const target: HostTarget = { kind: 'tunnel', hostname: label + this.suffix };
    if (host.length > MAX_NAME_LENGTH) return target; // not a DNS name: not worth the memory
    if (this.underApex.size >= MAX_REMEMBERED_HOSTS) this.underApex.clear();
    this.underApex.set(host, target);
    return target;
  }
}

/**
 * A bare IPv4 address or a bracketed IPv6 one (a normalised Host carries no other form). Only a
 * host that ends in a digit or starts with "[" can be one: names skip isIP's long IPv6 pattern,
 * which would otherwise run for every request.
 */
function isAddress(host: string): boolean {
  const last = host.charCodeAt(host.length - 1);
  if (host[0] !== '[' && !(last >= 48 && last <= 57)) return false;
  return isIP(host.replace(/^\[|\]$/g, '')) !== 0;
}
