import * as http from 'node:http';
import { withoutHopByHop } from '../../../common/http-headers';
import { sendAgentPage } from './agent-pages';
import type { HttpHandler } from './http-exchange';

export interface ProxyTarget {
  destination: string;
  port: number;
  /** Replace Host with the destination's (default), so virtual-hosted dev servers answer. */
  hostRewrite: boolean;
}

/**
 * Reverse proxy to a local HTTP service. Bodies stream both ways without buffering;
 * WebSocket upgrades are bridged to raw bytes. Connections to the origin are kept alive.
 */
export function createReverseProxy(target: ProxyTarget): HttpHandler & { close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' });
  const hostHeader = target.port === 80 ? target.destination : `${target.destination}:${target.port}`;

  const handler = ((req, res) => {
    const upgrade = res.switchProtocols !== undefined;
    const headers = withoutHopByHop(req.rawHeaders, upgrade);
    if (target.hostRewrite) {
      for (let i = 0; i < headers.length; i += 2) {
        if (headers[i].length === 4 && headers[i].toLowerCase() === 'host') headers[i + 1] = hostHeader;
      }
    }
    const outgoing = http.request({
      host: target.destination,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      setHost: false,
      agent: upgrade ? false : agent,
    });
    outgoing.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.rawHeaders), answer.statusMessage);
      answer.pipe(res.body);
      answer.on('error', () => res.destroy());
    });
    outgoing.on('upgrade', (answer, socket, head) => {
      const raw = res.switchProtocols!(withoutHopByHop(answer.rawHeaders, true), answer.statusMessage);
      if (head.length > 0) raw.write(head);
      socket.pipe(raw);
      raw.pipe(socket);
      socket.on('error', () => raw.destroy());
      raw.on('error', () => socket.destroy());
      socket.on('close', () => raw.destroy());
      raw.on('close', () => socket.destroy());
    });
    outgoing.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) return res.destroy();
      const why = err.code === 'ECONNREFUSED' ? 'nothing is listening there' : err.message;
      sendAgentPage(
        res,
        502,
        'Origin unreachable',
        `The Portway agent could not reach ${target.destination}:${target.port} (${why}). Is your local service running?`,
        req.method,
      );
    });
    // The visitor went away: stop talking to the origin as well.
    res.body.on('close', () => {
      if (!res.body.writableFinished) outgoing.destroy();
    });
    if (upgrade || req.hasBody === false) outgoing.end();
    else req.body.pipe(outgoing);
  }) as HttpHandler & { close(): void };
  handler.close = () => agent.destroy();
  return handler;
}
