/**
 * The inspector webview's document. Its CSP allows only the extension's own script and style
 * (by the webview's cspSource and a nonce) and images inline as data: (image bodies); nothing
 * remote, no inline script, no connections out. No `vscode` import.
 */
export interface InspectorPageParts {
  /** webview.cspSource: the origin the webview serves the extension's local files from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function inspectorCsp(p: Pick<InspectorPageParts, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${p.nonce}'`,
    `style-src ${p.cspSource}`,
    `img-src ${p.cspSource} data:`,
    `font-src ${p.cspSource}`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function inspectorHtml(p: InspectorPageParts): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${inspectorCsp(p)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${p.styleUri}">
<title>Portway: Requests</title>
</head>
<body>
<header class="toolbar" role="search">
  <input id="text" type="search" placeholder="Filter by method, path, client…" aria-label="Filter by text">
  <select id="route" aria-label="Filter by route"><option value="">All routes</option></select>
  <select id="status" aria-label="Filter by status">
    <option value="">All statuses</option><option value="2">2xx</option><option value="3">3xx</option>
    <option value="4">4xx</option><option value="5">5xx</option><option value="error">Errors and resets</option>
  </select>
  <button id="clear" class="secondary" title="Forget every captured request">Clear</button>
  <span id="count" aria-live="polite"></span>
</header>
<main>
  <section id="list" aria-label="Requests">
    <table>
      <thead><tr><th>Method</th><th>Path</th><th>Status</th><th>Duration</th><th>Size</th><th>Time</th></tr></thead>
      <tbody id="rows" tabindex="0" aria-label="Captured requests; arrow keys move, Enter opens"></tbody>
    </table>
    <p id="empty" class="muted">No requests yet. Requests to your public URLs show up here as they arrive.</p>
  </section>
  <section id="detail" aria-label="Request detail" aria-live="polite"><p class="muted">Select a request to see its headers and bodies.</p></section>
</main>
<script nonce="${p.nonce}" src="${p.scriptUri}"></script>
</body>
</html>
`;
}
