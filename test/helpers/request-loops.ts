/**
 * Tight HTTP/1.1 clients on raw sockets, for counts in the hundreds of thousands: a new connection
 * per request (`Connection: close`), or many requests on a few kept-alive connections. Every
 * answer is checked (status 200, whole body); failures are counted by reason, never thrown, so a
 * run reports all of them at the end. Used by the faults suite and `npm run bench -- --soak`.
 */
import * as net from 'node:net';

export interface LoopResult {
  ok: number;
  /** reason → how many requests failed that way */
  failures: Map<string, number>;
  ms: number;
}

export interface LoopTarget {
  port: number;
  /** Host header (the tunnel's hostname) */
  host: string;
  path?: string;
}

const HEAD_END = '\r\n\r\n';

/** Parses one response from the front of `text`: its status and total length, or undefined when incomplete. */
function takeResponse(text: string): { status: number; length: number } | undefined {
  const headEnd = text.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const head = text.slice(0, headEnd);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const contentLength = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (!contentLength) throw new Error(`answer without content-length: ${head.split('\r\n')[0]}`);
  const length = headEnd + HEAD_END.length + Number(contentLength[1]);
  return text.length >= length ? { status, length } : undefined;
}

function record(result: LoopResult, failure: string | undefined): void {
  if (failure === undefined) result.ok++;
  else result.failures.set(failure, (result.failures.get(failure) ?? 0) + 1);
}

/** One request on a new connection that the server closes after its answer. */
function oneShot(target: LoopTarget, request: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(target.port, '127.0.0.1');
    let text = '';
    let failure: string | undefined = 'closed before a whole answer';
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      text += chunk;
      try {
        const answer = takeResponse(text);
        if (answer) failure = answer.status === 200 ? undefined : `HTTP ${answer.status}`;
      } catch (err) {
        failure = (err as Error).message;
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (failure = err.code ?? err.message));
    socket.on('close', () => resolve(failure));
  });
}

/**
 * `count` requests, each on its own new connection, `lanes` at a time (each lane one connection
 * after another): the churn of many short-lived visitors.
 */
export async function newConnectionRequests(target: LoopTarget, count: number, lanes = 4): Promise<LoopResult> {
  const request = `GET ${target.path ?? '/'} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`;
  const result: LoopResult = { ok: 0, failures: new Map(), ms: 0 };
  const started = performance.now();
  let issued = 0;
  const lane = async (): Promise<void> => {
    while (issued < count) {
      issued++;
      record(result, await oneShot(target, request));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  result.ms = performance.now() - started;
  return result;
}

/** Sends requests one after another on one kept-alive connection while `take()` grants them. */
function keepAliveLane(target: LoopTarget, request: string, take: () => boolean, result: LoopResult): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(target.port, '127.0.0.1');
    let text = '';
    let waiting = false;
    const next = (): void => {
      if (!take()) return void socket.end();
      waiting = true;
      socket.write(request);
    };
    socket.setEncoding('latin1');
    socket.once('connect', next);
    socket.on('data', (chunk: string) => {
      text += chunk;
      try {
        const answer = takeResponse(text);
        if (!answer) return;
        text = text.slice(answer.length);
        waiting = false;
        record(result, answer.status === 200 ? undefined : `HTTP ${answer.status}`);
        next();
      } catch (err) {
        record(result, (err as Error).message);
        socket.destroy();
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (waiting) record(result, err.code ?? err.message);
      waiting = false;
    });
    socket.on('close', () => {
      // A connection the server closed while a request was out: that request failed.
      if (waiting) record(result, 'keep-alive connection closed before a whole answer');
      resolve();
    });
  });
}

/** `count` requests over `connections` kept-alive connections, one request in flight on each. */
export async function keepAliveRequests(target: LoopTarget, count: number, connections = 10): Promise<LoopResult> {
  const request = `GET ${target.path ?? '/'} HTTP/1.1\r\nHost: ${target.host}\r\n\r\n`;
  const result: LoopResult = { ok: 0, failures: new Map(), ms: 0 };
  const started = performance.now();
  let issued = 0;
  const take = (): boolean => issued++ < count;
  await Promise.all(Array.from({ length: connections }, () => keepAliveLane(target, request, take, result)));
  result.ms = performance.now() - started;
  return result;
}

/** "3× ECONNRESET; 1× HTTP 502", or "none". */
export function describeFailures(failures: Map<string, number>): string {
  return failures.size === 0 ? 'none' : [...failures].map(([why, n]) => `${n}× ${why}`).join('; ');
}
