/**
 * How ACME traffic (the agent's, the relay's) reaches the CA: acme-client's shared axios instance, scoped per
 * directory origin. Registering an origin
 * - trusts an extra CA bundle for it (a private CA, or pebble in tests) without touching
 *   process-wide TLS settings or other origins;
 * - never sends loopback traffic through an environment proxy;
 * - turns every 4xx ACME problem document into a typed AcmeProblemError right where the
 *   response arrives. acme-client would otherwise flatten it into a bare message, and would sleep
 *   through a rate limit's Retry-After (possibly hours) up to five times before failing.
 *   badNonce is left alone: acme-client retries it itself, as RFC 8555 §6.5 asks.
 */
import * as acme from 'acme-client';
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { AcmeDirectoryUnreachableError, AcmeProblemError, AcmeRateLimitedError, parseRetryAfter, toProblem } from './acme-errors';

/** Per request; a CA that does not answer in this long is treated as unreachable. */
export const ACME_REQUEST_TIMEOUT_MS = 30_000;
const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';
const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';

type RequestConfig = Parameters<NonNullable<Parameters<typeof acme.axios.interceptors.request.use>[0]>>[0];
type ResponseTransformer = Extract<NonNullable<RequestConfig['transformResponse']>, readonly unknown[]>[number];

interface OriginSettings {
  agent?: https.Agent;
  loopback: boolean;
}

const origins = new Map<string, OriginSettings>();
let installed = false;

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function headerValue(headers: unknown, name: string): unknown {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  return typeof h.get === 'function' ? h.get(name) : h[name];
}

/** Throws the typed error for a 4xx problem document; passes everything else through. */
const raiseProblems: ResponseTransformer = function (this: RequestConfig, data: unknown, headers: unknown, status?: number) {
  if (status === undefined || status < 400 || status >= 500) return data;
  const problem = toProblem(data);
  if (!problem || problem.type === BAD_NONCE) return data;
  const url = this.url ?? '';
  const retryAfter = parseRetryAfter(headerValue(headers, 'retry-after'));
  problem.status ??= status;
  // Thrown without a `config` property on purpose: acme-client's retry interceptor passes
  // such errors straight through instead of retrying them.
  if (problem.type === RATE_LIMITED || status === 429) throw new AcmeRateLimitedError(problem, url, retryAfter);
  throw new AcmeProblemError(problem, url, retryAfter);
};

function install(): void {
  if (installed) return;
  installed = true;
  acme.axios.interceptors.request.use((config) => {
    const settings = config.url ? origins.get(originOf(config.url)) : undefined;
    if (!settings) return config;
    if (settings.agent) config.httpsAgent = settings.agent;
    if (settings.loopback) config.proxy = false;
    config.timeout = ACME_REQUEST_TIMEOUT_MS;
    const transforms = config.transformResponse;
    const list: ResponseTransformer[] = Array.isArray(transforms) ? [...transforms] : transforms ? [transforms] : [];
    if (!list.includes(raiseProblems)) config.transformResponse = [...list, raiseProblems];
    return config;
  });
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/** One keep-alive agent per distinct bundle, so repeated registrations reuse connections. */
const agentsByBundle = new Map<string, https.Agent>();

/**
 * Sets how the directory's origin is reached: `caBundle` is trusted in addition to Node's
 * built-in roots (so passing one never breaks a publicly trusted directory); without one, only
 * the built-in roots are, even if an earlier call trusted a bundle for this origin.
 */
export function useDirectory(directoryUrl: string, caBundle?: string): void {
  install();
  const url = new URL(directoryUrl);
  let agent: https.Agent | undefined;
  if (caBundle) {
    agent = agentsByBundle.get(caBundle);
    if (!agent) {
      agent = new https.Agent({ keepAlive: true, ca: [...tls.rootCertificates, caBundle] });
      agentsByBundle.set(caBundle, agent);
    }
  }
  origins.set(url.origin, { agent, loopback: isLoopbackHost(url.hostname) });
}

/** The agent registered for the directory's origin, for requests made outside acme-client. */
function agentFor(directoryUrl: string): https.Agent | undefined {
  return origins.get(new URL(directoryUrl).origin)?.agent;
}

/**
 * Fetches the directory once, with its own short timeout and no retries, so an unreachable or
 * untrusted CA fails in seconds with a clear reason (acme-client retries network errors with a
 * growing delay for over a minute). Call useDirectory first.
 */
export function checkDirectory(directoryUrl: string, timeoutMs = 10_000): Promise<void> {
  const url = new URL(directoryUrl);
  const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.reject(new AcmeDirectoryUnreachableError(directoryUrl, `unsupported scheme ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const fail = (reason: string): void => reject(new AcmeDirectoryUnreachableError(directoryUrl, reason));
    const req = client.get(url, { agent: agentFor(directoryUrl), timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 64 * 1024) req.destroy(new Error('directory document larger than 64 KiB'));
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode} ${toProblem(body)?.detail ?? ''}`.trim());
        let dir: Record<string, unknown>;
        try {
          dir = JSON.parse(body) as Record<string, unknown>;
        } catch {
          return fail('the response is not JSON (is this an ACME directory URL?)');
        }
        const missing = ['newNonce', 'newAccount', 'newOrder'].filter((k) => typeof dir[k] !== 'string');
        if (missing.length > 0) return fail(`not an ACME directory (missing ${missing.join(', ')})`);
        resolve();
      });
      res.on('error', (err) => fail(err.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const trust = err.code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(err.code);
      fail(trust ? `${err.message} (its HTTPS certificate is not trusted; pass the CA bundle that signed it)` : err.message);
    });
  });
}
