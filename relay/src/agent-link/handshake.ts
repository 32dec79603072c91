import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** RFC 6455 4.2.2: the accept key is the SHA-1 of the client's key and this GUID. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A Sec-WebSocket-Key is 16 random bytes in base64. */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

export type HandshakeResult = { ok: true; response: string } | { ok: false; status: number; message: string; headers?: Record<string, string> };

/**
 * Checks an agent's upgrade request (as `ws` does) and returns the 101 answer. No extension
 * is agreed (permessage-deflate stays off) and no subprotocol is chosen.
 */
export function acceptHandshake(req: IncomingMessage): HandshakeResult {
  if (req.method !== 'GET') return { ok: false, status: 405, message: 'Invalid HTTP method' };
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return { ok: false, status: 400, message: 'Invalid Upgrade header' };
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY_PATTERN.test(key.trim())) return { ok: false, status: 400, message: 'Missing or invalid Sec-WebSocket-Key header' };
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    return { ok: false, status: 400, message: 'Missing or invalid Sec-WebSocket-Version header', headers: { 'Sec-WebSocket-Version': '13, 8' } };
  }
  const accept = createHash('sha1').update(key.trim() + GUID).digest('base64');
  return { ok: true, response: `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n` };
}

/** The HTTP answer to a refused handshake; the connection closes after it. */
export function refusalResponse(status: number, message: string, headers: Record<string, string> = {}): string {
  const title = { 400: 'Bad Request', 405: 'Method Not Allowed' }[status] ?? 'Bad Request';
  const fields = { Connection: 'close', 'Content-Type': 'text/html', 'Content-Length': String(Buffer.byteLength(message)), ...headers };
  return `HTTP/1.1 ${status} ${title}\r\n${Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n${message}`;
}
