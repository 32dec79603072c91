/** A small self-contained HTML page for relay and agent messages (errors, test page). */
export function htmlPage(title: string, message: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${esc(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}footer{margin-top:2rem;color:#888;font-size:.85rem}</style></head>
<body><h1>${esc(title)}</h1><p>${esc(message)}</p><footer>Portway</footer></body></html>
`;
}

/**
 * A page as a whole raw HTTP/1.1 response ending with Connection: close, for code that writes to
 * a socket or stream itself (the relay's and the agent's fast paths). HEAD gets the head only.
 */
export function rawHtmlResponse(status: number, statusMessage: string, title: string, message: string, method = 'GET'): string {
  const body = htmlPage(title, message);
  const head =
    `HTTP/1.1 ${status} ${statusMessage}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-store\r\nConnection: close\r\n\r\n';
  return method === 'HEAD' ? head : head + body;
}
