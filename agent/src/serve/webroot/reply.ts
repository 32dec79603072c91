import { STATUS_CODES } from 'node:http';
import type { AgentResponse } from '../http-exchange';

/** Small self-contained HTML for error statuses; no request data is echoed into it. */
export function statusPage(status: number): Buffer {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return Buffer.from(
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>` +
      `<body><h1>${title}</h1></body></html>\n`,
  );
}

/** Sends a complete small response; for HEAD only the headers. */
export function sendStatus(res: AgentResponse, isHead: boolean, status: number, extraHeaders: string[] = []): void {
  const body = statusPage(status);
  res.writeHead(status, [
    'Content-Type', 'text/html; charset=utf-8',
    'Content-Length', String(body.length),
    'Cache-Control', 'no-cache',
    'X-Content-Type-Options', 'nosniff',
    ...extraHeaders,
  ]);
  res.body.end(isHead ? undefined : body);
}
