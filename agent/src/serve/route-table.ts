import type { AgentConfig, HttpRouteConfig } from '../config/schema';
import { sendAgentPage } from './agent-pages';
import { observeExchanges, type ExchangeObserver } from './exchange-observer';
import type { HttpHandler } from './http-exchange';
import { createReverseProxy } from './reverse-proxy';
import { createWebrootHandler } from './webroot';

type ClosableHandler = HttpHandler & { close?(): void };

/** The kind of an HTTP route, as `info` and `start` show it. */
export function routeKind(route: HttpRouteConfig): 'webroot' | 'proxy' | 'passthrough' | 'none' {
  if (route.webroot) return 'webroot';
  if (route.tls !== undefined && route.destination) return 'passthrough';
  if (route.http !== undefined && route.destination) return 'proxy';
  return 'none';
}

function builtinPage(hostname: string): HttpHandler {
  return (req, res) =>
    sendAgentPage(
      res,
      200,
      'Portway tunnel is working',
      `This is ${hostname}, served through your Portway agent. Add a route to share a local port: ` +
        `portway route http add --domain ${hostname} --destination 127.0.0.1 --http 3000`,
      req.method,
    );
}

/**
 * Domain → handler, built from the config. Rebuilt whole when the config changes
 * (handlers of removed routes are closed), so lookups stay a single Map get.
 */
export class RouteTable {
  private handlers = new Map<string, ClosableHandler>();
  private configs = new Map<string, HttpRouteConfig>();
  private observer: ExchangeObserver | undefined;

  constructor(
    private readonly makeHandler: (route: HttpRouteConfig) => ClosableHandler | undefined = defaultHandler,
  ) {}

  update(config: AgentConfig): void {
    const next = new Map<string, ClosableHandler>();
    for (const route of config.http) {
      const handler = this.makeHandler(route);
      if (handler) next.set(route.domain.toLowerCase(), handler);
    }
    if (config.http.length === 0 && config.hostname) next.set(config.hostname, builtinPage(config.hostname));
    const old = this.handlers;
    this.handlers = next;
    this.configs = new Map(config.http.map((route) => [route.domain.toLowerCase(), route]));
    for (const handler of old.values()) handler.close?.();
  }

  routeFor(host: string): HttpRouteConfig | undefined {
    return this.configs.get(host);
  }

  handlerFor(host: string): HttpHandler {
    const handler = this.handlers.get(host) ?? noRoute;
    return this.observer ? observeExchanges(handler, this.observer) : handler;
  }

  /** Reports every exchange to `observer` from now on (undefined: stop; no cost then). */
  observe(observer: ExchangeObserver | undefined): void {
    this.observer = observer;
  }

  get observed(): boolean {
    return this.observer !== undefined;
  }

  close(): void {
    for (const handler of this.handlers.values()) handler.close?.();
    this.handlers.clear();
  }
}

const noRoute: HttpHandler = (req, res) =>
  sendAgentPage(res, 404, 'No route', `This Portway agent has no route for ${req.host}. Add one with \`portway route http add --domain ${req.host} ...\`.`, req.method);

/** The handler of a route's plain HTTP: webroot, or reverse proxy (also beside --tls: the transparent route). */
export function defaultHandler(route: HttpRouteConfig): ClosableHandler | undefined {
  if (routeKind(route) === 'webroot') return createWebrootHandler(route.webroot!);
  if (route.http !== undefined && route.destination) {
    return createReverseProxy({ destination: route.destination!, port: route.http!, hostRewrite: route.hostRewrite });
  }
  return undefined;
}
