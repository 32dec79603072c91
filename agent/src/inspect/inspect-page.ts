/**
 * The `--inspect` local page: the captured requests (newest first), a detail pane with headers and
 * bodies, copy as curl and Replay, all through the page's own JSON API (protocol/inspect.ts).
 * One self-contained document: its script and style are inline under a per-response nonce, and
 * its CSP allows nothing remote.
 */
export function inspectPageCsp(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

export function inspectPage(nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portway inspector</title>
<style nonce="${nonce}">
body{font:13px/1.4 system-ui,sans-serif;margin:0;display:flex;height:100vh;color:#222}
#list{width:45%;overflow:auto;border-right:1px solid #ccc}#detail{flex:1;overflow:auto;padding:8px}
table{border-collapse:collapse;width:100%}td{padding:2px 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:18em}
tr{cursor:pointer}tr:hover,tr.sel{background:#e8f0fe}.s2{color:#188038}.s3{color:#1a73e8}.s4{color:#b06000}.s5,.reset{color:#c5221f}
pre{background:#f6f6f6;padding:6px;white-space:pre-wrap;word-break:break-all}#filter{width:95%;margin:4px}
</style></head><body>
<div id="list"><input id="filter" placeholder="Filter: text, status (e.g. 5xx), route" aria-label="Filter">
<table><tbody id="rows"></tbody></table></div>
<div id="detail">Select a request.</div>
<script nonce="${nonce}">
(function () {
  let items = [], selected;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const headers = (h) => { let t = ''; for (let i = 0; i + 1 < h.length; i += 2) t += h[i] + ': ' + h[i + 1] + '\\n'; return t; };
  const statusClass = (r) => r.state === 'reset' ? 'reset' : r.status ? 's' + String(r.status)[0] : '';
  const matches = (r, f) => { if (!f) return true; if (/^[1-5]xx$/i.test(f)) return String(r.status || '')[0] === f[0];
    return (r.method + ' ' + r.path + ' ' + r.route + ' ' + (r.status || '')).toLowerCase().includes(f.toLowerCase()); };
  function body(b) {
    if (b.kind === 'empty') return '<p>(empty)</p>';
    const note = b.size + ' bytes' + (b.truncated ? ', first part shown' : '') + (b.decodedFrom ? ', decoded from ' + esc(b.decodedFrom) : '');
    if (b.kind === 'image') return '<p>' + note + '</p><img alt="body" src="data:' + esc(b.contentType) + ';base64,' + b.base64 + '">';
    if (b.kind === 'binary') return '<p>' + note + ' (binary, hex)</p><pre>' + esc(b.hex) + '</pre>';
    return '<p>' + note + '</p><pre>' + esc(b.text) + '</pre>';
  }
  function curl(r) {
    const q = (s) => "'" + String(s).replace(/'/g, "'\\\\''") + "'";
    let c = 'curl -X ' + r.method + ' ' + q(r.proto + '://' + r.host + r.path);
    for (let i = 0; i + 1 < r.requestHeaders.length; i += 2) if (!/^(host|content-length|x-forwarded-.*)$/i.test(r.requestHeaders[i])) c += ' -H ' + q(r.requestHeaders[i] + ': ' + r.requestHeaders[i + 1]);
    if (r.requestBody.text) c += ' --data-binary ' + q(r.requestBody.text);
    return c;
  }
  function show(r, replayed) {
    const part = (x, title) => '<h3>' + title + '</h3><p class="' + statusClass(x) + '">' + esc(x.method) + ' ' + esc(x.path) + ' → ' + (x.status || x.state) + (x.error ? ' (' + esc(x.error) + ')' : '') +
      (x.durationMs !== undefined ? ' in ' + x.durationMs.toFixed(1) + ' ms' : '') + '</p><h4>Request headers</h4><pre>' + esc(headers(x.requestHeaders)) + '</pre><h4>Request body</h4>' + body(x.requestBody) +
      '<h4>Response headers</h4><pre>' + esc(headers(x.responseHeaders)) + '</pre><h4>Response body</h4>' + body(x.responseBody);
    $('detail').innerHTML = '<button id="replay">Replay</button> <button id="curl">Copy as curl</button><span id="msg"></span>' +
      (replayed ? '<div style="display:flex;gap:8px"><div style="flex:1">' + part(r, 'Original') + '</div><div style="flex:1" id="replayed">' + part(replayed, 'Replay') + '</div></div>' : part(r, 'Request ' + r.id));
    $('curl').onclick = () => navigator.clipboard.writeText(curl(r)).then(() => ($('msg').textContent = ' copied'), () => ($('msg').textContent = ' ' + curl(r)));
    $('replay').onclick = () => fetch('/api/requests/' + r.id + '/replay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      .then((a) => a.json().then((j) => { if (!a.ok) throw new Error(j.error); show(r, j); }))
      .catch((e) => ($('msg').textContent = ' ' + e.message));
  }
  function render() {
    const f = $('filter').value.trim();
    $('rows').innerHTML = items.filter((r) => matches(r, f)).map((r) => '<tr data-id="' + r.id + '"' + (r.id === selected ? ' class="sel"' : '') + '><td>' + esc(r.method) + '</td><td title="' + esc(r.path) + '">' + esc(r.path) +
      '</td><td class="' + statusClass(r) + '">' + (r.status || r.state) + '</td><td>' + (r.durationMs === undefined ? '' : r.durationMs.toFixed(0) + ' ms') + '</td><td>' + r.bytesOut + ' B</td><td>' + new Date(r.startedAt).toLocaleTimeString() + '</td></tr>').join('');
  }
  $('rows').onclick = (e) => { const tr = e.target.closest('tr'); if (!tr) return; selected = Number(tr.dataset.id); render(); show(items.find((r) => r.id === selected)); };
  $('filter').oninput = render;
  function poll() { fetch('/api/requests').then((a) => a.json()).then((list) => { items = list; render(); }).catch(() => undefined).finally(() => setTimeout(poll, 1000)); }
  poll();
})();
</script></body></html>
`;
}
