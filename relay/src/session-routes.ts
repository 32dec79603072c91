import type { HttpRouteTlsMode, ProxyAnnouncement, RoutesSync } from '../../protocol/control';
import { Firewall } from './security/firewall';

/**
 * What one agent announced about its routes: which domains it serves and each route's
 * firewall. The relay enforces these before any byte reaches the agent.
 */
export interface AnnouncedHttpRoute {
  firewall: Firewall;
  /** Set for plain reverse-proxy routes: the relay may use the raw fast path. */
  proxy?: ProxyAnnouncement;
}

export class SessionRoutes {
  private http = new Map<string, AnnouncedHttpRoute>();
  private tcp = new Map<number, Firewall>();
  /** Domains whose TLS (on the relay's HTTPS port) ends at the agent or its destination. */
  private tls = new Map<string, HttpRouteTlsMode>();

  /**
   * Replaces the announced set. A domain the session may not use, or a rule that does not
   * parse, is left out and reported; the rest takes effect at once.
   */
  apply(sync: RoutesSync, mayUseDomain: (domain: string) => boolean, mayUsePort: (port: number) => boolean): { route: string; reason: string }[] {
    const rejected: { route: string; reason: string }[] = [];
    const http = new Map<string, AnnouncedHttpRoute>();
    const tls = new Map<string, HttpRouteTlsMode>();
    for (const route of sync.http) {
      const domain = route.domain.toLowerCase().replace(/\.$/, '');
      if (!mayUseDomain(domain)) {
        rejected.push({ route: domain, reason: 'this agent may not use that domain' });
        continue;
      }
      try {
        http.set(domain, { firewall: new Firewall(route.firewall), proxy: route.proxy });
        if (route.tls) tls.set(domain, route.tls);
      } catch (err) {
        rejected.push({ route: domain, reason: (err as Error).message });
      }
    }
    const tcp = new Map<number, Firewall>();
    for (const route of sync.tcp) {
      if (!mayUsePort(route.port)) {
        rejected.push({ route: `tcp ${route.port}`, reason: 'this agent has not allocated that port' });
        continue;
      }
      try {
        tcp.set(route.port, new Firewall(route.firewall));
      } catch (err) {
        rejected.push({ route: `tcp ${route.port}`, reason: (err as Error).message });
      }
    }
    this.http = http;
    this.tls = tls;
    this.tcp = tcp;
    return rejected;
  }

  /** The firewall of the route serving this host, if the agent announced one. */
  httpFirewall(host: string): Firewall | undefined {
    return this.http.get(host)?.firewall;
  }

  httpRoute(host: string): AnnouncedHttpRoute | undefined {
    return this.http.get(host);
  }

  /** How TLS for this SNI name is handled, if the route does TLS itself (the relay then passes it through). */
  tlsMode(serverName: string): HttpRouteTlsMode | undefined {
    return this.tls.get(serverName);
  }

  tcpFirewall(port: number): Firewall | undefined {
    return this.tcp.get(port);
  }

  get announcedDomains(): string[] {
    return [...this.http.keys()];
  }

  get announcedPorts(): number[] {
    return [...this.tcp.keys()];
  }
}
