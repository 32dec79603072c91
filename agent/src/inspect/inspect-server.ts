import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InspectApi, validateReplayEdit } from '../../../protocol/inspect';
import { formatHostPort } from '../../../common/net/host-port';
import type { HttpHandler } from '../serve/http-exchange';
import { inspectPage, inspectPageCsp } from './inspect-page';
import { toCapturedRequest, type Inspector } from './inspector';
import { ReplayError, replayRequest } from './replay';

/** Request bodies of the API (replay edits) larger than this are refused. */
const MAX_EDIT_BYTES = 1024 * 1024;

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_EDIT_BYTES) return reject(new TypeError(`the replay edit is larger than ${MAX_EDIT_BYTES} bytes`));
      chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      try {
        resolve(text === '' ? undefined : JSON.parse(text));
      } catch {
        reject(new TypeError('the replay edit is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

/**
 * The local page and JSON API of `portway http PORT --inspect`. It answers only to its own
 * address in Host (a DNS-rebinding page elsewhere cannot read it) and takes replays only as
 * application/json (a cross-site form cannot post one).
 */
export class InspectServer {
  private readonly server: http.Server;

  constructor(
    private readonly inspector: Inspector,
    private readonly handlerFor: (route: string) => HttpHandler,
  ) {
    this.server = http.createServer((req, res) => void this.answer(req, res));
  }

  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        resolve(`http://${formatHostPort(address.address, address.port)}/`);
      });
    });
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  private ownHost(req: http.IncomingMessage): boolean {
    const address = this.server.address() as AddressInfo;
    const host = (req.headers.host ?? '').toLowerCase();
    const allowed = [formatHostPort(address.address, address.port), `localhost:${address.port}`];
    return allowed.includes(host);
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.ownHost(req)) return sendJson(res, 421, { error: 'this inspector answers only to its own address in Host' });
    const url = new URL(req.url ?? '/', 'http://inspector');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') {
      const nonce = randomBytes(16).toString('base64');
      const page = inspectPage(nonce);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': inspectPageCsp(nonce) });
      return void res.end(page);
    }
    if (req.method === 'GET' && path === InspectApi.requests) return sendJson(res, 200, this.inspector.list().map(toCapturedRequest));
    const one = /^\/api\/requests\/(\d+)(\/replay)?$/.exec(path);
    if (!one) return sendJson(res, 404, { error: `no such page: ${req.method} ${path}` });
    const id = Number(one[1]);
    if (!one[2]) {
      if (req.method !== 'GET') return sendJson(res, 405, { error: 'use GET' });
      const capture = this.inspector.get(id);
      return capture ? sendJson(res, 200, toCapturedRequest(capture)) : sendJson(res, 404, { error: `no captured request ${id}` });
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST to replay' });
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return sendJson(res, 415, { error: 'send the replay edit as application/json ({} for none)' });
    try {
      const edit = validateReplayEdit(await readJson(req));
      const replay = await replayRequest(this.inspector, this.handlerFor, id, edit);
      sendJson(res, 200, toCapturedRequest(replay));
    } catch (err) {
      const status = err instanceof TypeError ? 400 : err instanceof ReplayError ? { 'not-found': 404, invalid: 400, failed: 502 }[err.reason] : 500;
      sendJson(res, status, { error: (err as Error).message });
    }
  }
}
