/**
 * Typed failures of ACME issuance, each with a message a user can act on. The CLI prints
 * `message`; the renewal scheduler reads `retryAfter` to back off instead of hammering the CA.
 */

/** An RFC 7807 problem document as ACME servers send them (RFC 8555 §6.7). */
export interface AcmeProblem {
  type: string;
  detail?: string;
  status?: number;
}

const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

/** "urn:ietf:params:acme:error:rateLimited" -> "rateLimited"; other URIs unchanged. */
export function shortProblemType(type: string): string {
  return type.startsWith(ACME_ERROR_PREFIX) ? type.slice(ACME_ERROR_PREFIX.length) : type;
}

function describe(problem: AcmeProblem): string {
  const status = problem.status ? `, HTTP ${problem.status}` : '';
  return `${problem.detail ?? '(no detail)'} [${shortProblemType(problem.type)}${status}]`;
}

export class AcmeError extends Error {
  override name = 'AcmeError';
  /** When it makes sense to try again (rate limits); undefined = the caller's own backoff. */
  retryAfter?: Date;
}

/** The directory could not be fetched at all: DNS, refused connection, TLS trust, not ACME. */
export class AcmeDirectoryUnreachableError extends AcmeError {
  override name = 'AcmeDirectoryUnreachableError';
  constructor(readonly directoryUrl: string, reason: string) {
    super(`ACME directory ${directoryUrl} is unreachable: ${reason}`);
  }
}

/** The CA answered a request with a problem document. */
export class AcmeProblemError extends AcmeError {
  override name = 'AcmeProblemError';
  constructor(readonly problem: AcmeProblem, readonly url: string, retryAfter?: Date) {
    super(`ACME server refused ${new URL(url).pathname}: ${describe(problem)}`);
    this.retryAfter = retryAfter;
  }
}

/** urn:ietf:params:acme:error:rateLimited (HTTP 429). */
export class AcmeRateLimitedError extends AcmeProblemError {
  override name = 'AcmeRateLimitedError';
  constructor(problem: AcmeProblem, url: string, retryAfter?: Date) {
    super(problem, url, retryAfter);
    const when = retryAfter ? `; retry after ${retryAfter.toISOString()}` : '';
    this.message = `ACME rate limit reached: ${describe(problem)}${when}`;
  }
}

/** The CA tried to validate the HTTP-01 challenge and it failed; `problem` says why. */
export class AcmeChallengeFailedError extends AcmeError {
  override name = 'AcmeChallengeFailedError';
  constructor(readonly domain: string, readonly problem: AcmeProblem) {
    super(
      `HTTP-01 challenge for ${domain} failed: ${describe(problem)}. The CA must be able to fetch ` +
        `http://${domain}/.well-known/acme-challenge/<token> on the relay's port 80: check that ${domain} ` +
        `resolves to the relay and that its port 80 is reachable.`,
    );
  }
}

/** Parses a Retry-After header (delta seconds or HTTP date) relative to `now`. */
export function parseRetryAfter(value: unknown, now: Date = new Date()): Date | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return new Date(now.getTime() + Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : new Date(at);
}

/** Reads a problem document from a parsed or raw JSON body; undefined if it is not one. */
export function toProblem(body: unknown): AcmeProblem | undefined {
  let data = body;
  if (Buffer.isBuffer(data)) data = data.toString('utf8');
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return undefined;
    }
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const { type, detail, status } = data as Record<string, unknown>;
  if (typeof type !== 'string') return undefined;
  return {
    type,
    detail: typeof detail === 'string' ? detail : undefined,
    status: typeof status === 'number' ? status : undefined,
  };
}
