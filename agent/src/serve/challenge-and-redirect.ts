import { STATUS_CODES } from 'node:http';
import type { HttpRouteConfig } from '../config/schema';
import { answerChallenge, type ChallengeStore } from '../../../common/acme/challenge-store';
import type { AgentRequest, AgentResponse, HttpHandler } from './http-exchange';

type ClosableHandler = HttpHandler & { close?(): void };

function reply(res: AgentResponse, status: number, headers: Record<string, string>, body: string, method: string): void {
  const raw = Object.entries(headers).flat();
  raw.push('Content-Length', String(Buffer.byteLength(body)));
  res.writeHead(status, raw, STATUS_CODES[status]);
  res.body.end(method === 'HEAD' ? undefined : body);
}

/** 308 keeps the method and body (a POST stays a POST), unlike 301. */
function redirectToHttps(req: AgentRequest, res: AgentResponse, domain: string): void {
  const location = `https://${domain}${req.url.startsWith('/') ? req.url : `/${req.url}`}`;
  req.body.resume(); // nobody reads the body of a redirected request
  reply(res, 308, { Location: location, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, `Redirecting to ${location}\n`, req.method);
}

/**
 * The plain-HTTP front of a route: ACME HTTP-01 challenges are answered first (so a route with
 * --redirect can still get its certificate), then --redirect sends plain HTTP to https, then the
 * route's own handler. Undefined when the route has nothing to serve over HTTP.
 */
export function withChallengesAndRedirect(route: HttpRouteConfig, inner: ClosableHandler | undefined, challenges: ChallengeStore): ClosableHandler | undefined {
  if (!inner && !route.redirect && !route.letsencrypt) return undefined;
  const domain = route.domain.toLowerCase();
  const handler: ClosableHandler = (req, res) => {
    // Only ACME routes: another route's app may answer challenges of its own (e.g. certbot).
    const answer = route.letsencrypt ? answerChallenge(challenges, req.method, req.url) : undefined;
    if (answer) {
      req.body.resume();
      return reply(res, answer.status, answer.headers, answer.body, req.method);
    }
    if (route.redirect && req.proto === 'http') return redirectToHttps(req, res, domain);
    if (inner) return inner(req, res);
    reply(res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, `${domain} is served over HTTPS only\n`, req.method);
  };
  if (inner?.close) handler.close = () => inner.close!();
  return handler;
}
