import type { ServerResponse } from 'node:http';
import { htmlPage } from '../../common/html-page';

/** Sends a short HTML page; used for every error the relay itself answers. */
export function sendPage(res: ServerResponse, status: number, title: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = htmlPage(title, message);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

export const Pages = {
  unknownHost: (res: ServerResponse, host: string) =>
    sendPage(res, 404, 'Unknown host', `No tunnel is registered for ${host || 'this address'} on this relay.`),
  tunnelOffline: (res: ServerResponse, host: string) =>
    sendPage(res, 502, 'Tunnel offline', `The agent for ${host} is not connected right now. Start it with \`portway start\` and try again.`),
  tunnelLost: (res: ServerResponse, host: string) =>
    sendPage(res, 502, 'Tunnel connection lost', `The connection to the agent for ${host} ended before it answered.`),
  badRequest: (res: ServerResponse, why: string) => sendPage(res, 400, 'Bad request', why),
  tunnelBusy: (res: ServerResponse, host: string) =>
    sendPage(res, 503, 'Tunnel busy', `The tunnel for ${host} is carrying as many requests as it may at once; try again shortly.`),
  forbidden: (res: ServerResponse, host: string) =>
    sendPage(res, 403, 'Forbidden', `The firewall of ${host} does not admit your address.`),
};
