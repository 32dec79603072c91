import type { MuxStream } from '../../../mux/stream';
import type { TlsOpen } from '../../../protocol/stream-head';
import type { AgentConfig, HttpRouteConfig } from '../config/schema';
import { withChallengesAndRedirect } from '../serve/challenge-and-redirect';
import type { HttpHandler } from '../serve/http-exchange';
import { defaultHandler } from '../serve/route-table';
import { passTlsToDestination } from '../serve/tls-pass-through';
import { TlsTerminator } from '../serve/tls-termination';
import { AcmeCertificates } from './acme-certificates';
import { RouteSecureContexts } from './route-secure-contexts';
import { tlsModeOf } from './tls-mode';

export interface AgentTlsOptions {
  configPath: string;
  config: AgentConfig;
  /** The route table's current HTTP handler for a domain. */
  handlerFor(domain: string): HttpHandler;
  log(line: string): void;
}

/**
 * Everything TLS on the agent: the `tls` streams the relay passes through by SNI (terminated
 * here with the route's certificate, or piped on to the destination's TLS port), the
 * certificates (custom pairs, ACME with renewal), and the plain-HTTP front of each route
 * (ACME challenges, --redirect).
 */
export class AgentTls {
  private routes = new Map<string, HttpRouteConfig>();
  private readonly contexts = new RouteSecureContexts();
  private readonly acme: AcmeCertificates;
  private readonly terminator: TlsTerminator;

  constructor(private readonly options: AgentTlsOptions) {
    this.acme = new AcmeCertificates(options.configPath, options.config, options.log);
    this.acme.on('certificate', (domain, certificate) => this.contexts.set(domain, certificate));
    this.terminator = new TlsTerminator(options.handlerFor);
    this.update(options.config);
  }

  /** The route's plain-HTTP handler (for the route table). */
  httpHandler(route: HttpRouteConfig): (HttpHandler & { close?(): void }) | undefined {
    return withChallengesAndRedirect(route, defaultHandler(route), this.acme.challenges);
  }

  update(config: AgentConfig): void {
    this.routes = new Map(config.http.map((route) => [route.domain.toLowerCase(), route]));
    this.contexts.rebuild(config, (domain) => this.acme.stored(domain), this.options.log);
    this.acme.update(config);
  }

  /** The tunnel is online: ACME certificates can be obtained now. */
  online(): void {
    this.acme.online();
  }

  /** The stream handler for `tls` streams (RawStreamHandlers.tls). */
  handleStream(open: TlsOpen, stream: MuxStream): void {
    const name = open.serverName.toLowerCase();
    const route = this.routes.get(name);
    const mode = route && tlsModeOf(route);
    if (route && mode === 'passthrough') return passTlsToDestination(stream, route.destination!, route.tls!, this.options.log);
    if (mode === 'agent') {
      const context = this.contexts.get(name);
      if (context) return this.terminator.serve(stream, open, context);
      this.options.log(`no certificate for ${name} yet; closed a TLS connection from ${open.remoteAddress}`);
    } else {
      this.options.log(`no TLS route for ${name}; closed a TLS connection from ${open.remoteAddress}`);
    }
    stream.destroy();
  }

  stop(): void {
    this.acme.stop();
    this.terminator.close();
  }
}
