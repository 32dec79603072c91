import type { MuxStream } from '../../../mux/stream';
import { encodeHead, type HttpOpen } from '../../../protocol/stream-head';
import { headerMap, type AgentRequest, type AgentResponse } from './http-exchange';

/** The request/response pair for an HTTP stream from the relay. */
export function exchangeFromStream(open: HttpOpen, stream: MuxStream): { req: AgentRequest; res: AgentResponse } {
  const req: AgentRequest = {
    method: open.method,
    url: open.url,
    rawHeaders: open.rawHeaders,
    headers: headerMap(open.rawHeaders),
    host: open.host,
    proto: open.proto,
    remoteAddress: open.remoteAddress,
    remotePort: open.remotePort,
    body: stream,
    hasBody: open.hasBody,
  };
  let headersSent = false;
  const writeHead = (status: number, rawHeaders: string[], statusMessage?: string) => {
    if (headersSent) throw new Error('response head already sent');
    headersSent = true;
    stream.write(encodeHead({ status, statusMessage, rawHeaders }));
  };
  const res: AgentResponse = {
    writeHead,
    get headersSent() {
      return headersSent;
    },
    body: stream,
    destroy: (err) => stream.destroy(err),
  };
  if (open.upgrade) {
    res.switchProtocols = (rawHeaders, statusMessage) => {
      writeHead(101, rawHeaders, statusMessage ?? 'Switching Protocols');
      return stream;
    };
  } else {
    // A handler that ignores the request body must not stall the stream: once the
    // response is complete, drain what is left so the relay's side can finish.
    stream.once('finish', () => {
      if (!stream.readableEnded) stream.resume();
    });
  }
  return { req, res };
}
