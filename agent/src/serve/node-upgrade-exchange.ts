import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { serializeResponseHead } from '../../../common/http-headers';
import { headerMap, type AgentRequest, type AgentResponse } from './http-exchange';

/**
 * An Upgrade request (WebSocket) from a local Node HTTP server as the agent's request/response
 * pair: switchProtocols writes the 101 and hands over the socket; any other answer is written
 * onto the socket and the connection closes after it.
 */
export function adaptNodeUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: { proto: 'http' | 'https'; host: string; remoteAddress: string; remotePort: number },
): { request: AgentRequest; response: AgentResponse } {
  if (head.length > 0) socket.unshift(head);
  const request: AgentRequest = {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    rawHeaders: req.rawHeaders,
    headers: headerMap(req.rawHeaders),
    host: opts.host,
    proto: opts.proto,
    remoteAddress: opts.remoteAddress,
    remotePort: opts.remotePort,
    body: req,
    hasBody: false,
  };
  let headersSent = false;
  const writeHead = (status: number, rawHeaders: string[], statusMessage?: string) => {
    if (headersSent) throw new Error('response head already sent');
    headersSent = true;
    const headers = status === 101 ? rawHeaders : rawHeaders.concat('Connection', 'close');
    socket.write(serializeResponseHead(status, statusMessage ?? '', headers));
  };
  const response: AgentResponse = {
    writeHead,
    get headersSent() {
      return headersSent;
    },
    body: socket,
    destroy: (err) => socket.destroy(err),
    switchProtocols(rawHeaders, statusMessage) {
      writeHead(101, rawHeaders, statusMessage ?? 'Switching Protocols');
      return socket;
    },
  };
  return { request, response };
}
