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
