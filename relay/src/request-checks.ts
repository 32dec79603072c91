import type { IncomingMessage } from 'node:http';

/**
 * Refuses requests whose framing or routing is ambiguous (request smuggling): both
 * Content-Length and Transfer-Encoding, a Transfer-Encoding other than plain "chunked",
 * repeated Content-Length or Host. Returns the reason, or undefined when the request is sound.
 */
export function ambiguityOf(req: IncomingMessage): string | undefined {
  let hosts = 0;
  let lengths = 0;
  let encodings = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'host') hosts++;
    else if (name === 'content-length') lengths++;
    else if (name === 'transfer-encoding') {
      encodings++;
      if (raw[i + 1].trim().toLowerCase() !== 'chunked') return 'unsupported Transfer-Encoding';
    }
  }
  if (hosts > 1) return 'more than one Host header';
  if (lengths > 1) return 'more than one Content-Length header';
  if (encodings > 1) return 'more than one Transfer-Encoding header';
  if (lengths > 0 && encodings > 0) return 'both Content-Length and Transfer-Encoding';
  if (req.url === undefined || (!req.url.startsWith('/') && req.url !== '*' && req.method !== 'CONNECT')) {
    // Absolute-form targets are for proxies; a tunnel front accepts origin-form only.
    if (!/^https?:\/\//i.test(req.url ?? '')) return 'malformed request target';
  }
  return undefined;
}
