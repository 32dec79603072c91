import { htmlPage } from '../../../common/html-page';
import type { AgentResponse } from './http-exchange';

/** Answers with a short HTML page (errors, the built-in test page). */
export function sendAgentPage(res: AgentResponse, status: number, title: string, message: string, method = 'GET'): void {
  if (res.headersSent) return res.destroy();
  const body = Buffer.from(htmlPage(title, message));
  res.writeHead(status, ['Content-Type', 'text/html; charset=utf-8', 'Content-Length', String(body.length), 'Cache-Control', 'no-store']);
  res.body.end(method === 'HEAD' ? undefined : body);
}
