/**
 * Pending HTTP-01 challenges: token -> key authorization.
 *
 * The issuer fills it while an order is being validated; whatever serves plain HTTP for the
 * name (the agent's handler behind the tunnel, or the relay for its own names) answers the CA's
 * GET from it. Kept free of any
 * HTTP library so the core can adapt it to its own request/response types.
 */

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** RFC 8555 §8.3: tokens are base64url; anything else is never a token we issued. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

export class ChallengeStore {
  private readonly pending = new Map<string, string>();

  set(token: string, keyAuthorization: string): void {
    if (!TOKEN_PATTERN.test(token)) throw new Error(`invalid ACME challenge token: ${JSON.stringify(token)}`);
    this.pending.set(token, keyAuthorization);
  }

  get(token: string): string | undefined {
    return this.pending.get(token);
  }

  delete(token: string): void {
    this.pending.delete(token);
  }

  get size(): number {
    return this.pending.size;
  }
}

export interface ChallengeAnswer {
  status: 200 | 404 | 405;
  headers: Record<string, string>;
  body: string;
}

/** Answers its own HTTP-01 challenges on an HTTP port it shares; undefined means "not ours". */
export interface OwnChallengeAnswers {
  answer(method: string, url: string): ChallengeAnswer | undefined;
}

/**
 * Answers a request if its path is an ACME challenge path; undefined means "not ours, route it
 * as usual". Query strings are ignored (the CA never sends one). Unknown tokens get a 404 rather
 * than falling through to the user's app, so a stale token can never be answered by the origin.
 */
export function answerChallenge(store: ChallengeStore, method: string, url: string): ChallengeAnswer | undefined {
  const path = url.split('?', 1)[0];
  if (!path.startsWith(ACME_CHALLENGE_PREFIX)) return undefined;
  const headers = { 'content-type': 'text/plain', 'cache-control': 'no-store' };
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: { ...headers, allow: 'GET, HEAD' }, body: '' };
  const token = path.slice(ACME_CHALLENGE_PREFIX.length);
  const keyAuthorization = TOKEN_PATTERN.test(token) ? store.get(token) : undefined;
  if (keyAuthorization === undefined) return { status: 404, headers, body: 'unknown ACME challenge token\n' };
  return { status: 200, headers, body: method === 'HEAD' ? '' : keyAuthorization };
}

/**
 * Answers only a GET/HEAD for a token this store holds; undefined for anything else (another
 * path, another method, an unknown token), so the caller routes it as usual. For a front that
 * shares the challenge path with others behind it: the relay answers its own tokens and lets
 * the rest reach the agent, which may be running ACME for its routes.
 */
export function answerOwnChallenge(store: ChallengeStore, method: string, url: string): ChallengeAnswer | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const answer = answerChallenge(store, method, url);
  return answer?.status === 200 ? answer : undefined;
}
