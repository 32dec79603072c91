/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The inspector webview's script (bundled to dist/inspector-view.js, runs in the webview, not in
 * Node): the live list with filters and keyboard navigation, the detail pane, Replay (optionally
 * edited) with the new response beside the old. Everything is built with DOM nodes and
 * textContent: captured data is never parsed as HTML.
 */
import type { CapturedRequest, ShownBody } from '../../../../protocol/inspect';
import type { FromWebview, InspectorRow, ToWebview } from '../webview-messages';

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void };
const vscode = acquireVsCodeApi();
const send = (m: FromWebview) => vscode.postMessage(m);

const rows = new Map<string, InspectorRow>();
let selected: string | undefined;
let shown: CapturedRequest | undefined;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const textFilter = $<HTMLInputElement>('text');
const routeFilter = $<HTMLSelectElement>('route');
const statusFilter = $<HTMLSelectElement>('status');
const tbody = $<HTMLTableSectionElement>('rows');
const detail = $<HTMLElement>('detail');

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string; title?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  node.append(...children);
  return node;
}

function statusClass(r: Pick<InspectorRow, 'state' | 'status'>): string {
  if (r.state === 'reset') return 'status-error';
  if (!r.status) return 'status-pending';
  return r.status >= 500 ? 'status-5xx' : r.status >= 400 ? 'status-4xx' : r.status >= 300 ? 'status-3xx' : 'status-2xx';
}

function statusText(r: Pick<InspectorRow, 'state' | 'status' | 'error'>): string {
  if (r.state === 'reset') return r.status ? `${r.status} reset` : 'reset';
  return r.status ? String(r.status) : r.state;
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function matches(r: InspectorRow): boolean {
  if (routeFilter.value && r.route !== routeFilter.value) return false;
  const s = statusFilter.value;
  if (s === 'error' && r.state !== 'reset' && !(r.status && r.status >= 500)) return false;
  if (s && s !== 'error' && String(r.status ?? '')[0] !== s) return false;
  const t = textFilter.value.trim().toLowerCase();
  return !t || `${r.method} ${r.path} ${r.route} ${r.status ?? ''} ${r.clientAddress}`.toLowerCase().includes(t);
}

function renderRoutes(): void {
  const routes = [...new Set([...rows.values()].map((r) => r.route))].sort();
  const current = routeFilter.value;
  for (const route of routes) {
    if (![...routeFilter.options].some((o) => o.value === route)) routeFilter.append(new Option(route, route));
  }
  routeFilter.value = current;
}

function renderList(): void {
  const list = [...rows.values()].filter(matches).sort((a, b) => b.startedAt - a.startedAt);
  tbody.replaceChildren(
    ...list.map((r) => {
      const tr = el(
        'tr',
        { className: r.key === selected ? 'selected' : r.stale ? 'stale' : '' },
        el('td', { text: r.method }),
        el('td', { text: r.path, title: `${r.route}${r.path}` }),
        el('td', { className: statusClass(r), text: statusText(r), title: r.error }),
        el('td', { text: r.durationMs === undefined ? '' : `${r.durationMs.toFixed(0)} ms` }),
        el('td', { text: bytes(r.bytesOut) }),
        el('td', { text: new Date(r.startedAt).toLocaleTimeString() }),
      );
      tr.dataset.key = r.key;
      tr.setAttribute('aria-selected', String(r.key === selected));
      return tr;
    }),
  );
  $('empty').hidden = list.length > 0;
  $('count').textContent = `${list.length} of ${rows.size}`;
}

function select(key: string): void {
  selected = key;
  shown = undefined;
  renderList();
  detail.replaceChildren(el('p', { className: 'muted', text: 'Loading…' }));
  send({ type: 'select', key });
}

function headersTable(h: string[]): HTMLElement {
  if (h.length === 0) return el('p', { className: 'muted', text: '(none)' });
  const table = el('table', { className: 'headers' });
  for (let i = 0; i + 1 < h.length; i += 2) table.append(el('tr', {}, el('th', { text: h[i] }), el('td', { text: h[i + 1] })));
  return table;
}

function bodyView(b: ShownBody): HTMLElement {
  if (b.kind === 'empty') return el('p', { className: 'muted', text: '(empty)' });
  const notes = [bytes(b.size), b.contentType ?? '', b.truncated ? 'first 64 KiB shown' : '', b.decodedFrom ? `decoded from ${b.decodedFrom}` : '', b.decodeError ? `not decoded: ${b.decodeError}` : ''];
  const note = el('p', { className: 'muted', text: notes.filter(Boolean).join(' · ') });
  if (b.kind === 'image' && b.base64) {
    const img = el('img', { className: 'body-image' });
    img.alt = 'response image';
    img.src = `data:${b.contentType ?? 'image/png'};base64,${b.base64}`;
    return el('div', {}, note, img);
  }
  if (b.kind === 'binary') return el('div', {}, note, el('pre', { className: 'body', text: b.hex ?? '' }));
  return el('div', {}, note, el('pre', { className: `body ${b.kind}`, text: b.text ?? '' }));
}

function exchangeView(r: CapturedRequest, title: string): HTMLElement {
  const timing = [r.ttfbMs !== undefined ? `first byte ${r.ttfbMs.toFixed(1)} ms` : '', r.durationMs !== undefined ? `total ${r.durationMs.toFixed(1)} ms` : ''].filter(Boolean).join(' · ');
  return el(
    'div',
    { className: 'exchange' },
    el('h2', {}, el('span', { text: `${title}: ${r.method} ${r.path} ` }), el('span', { className: statusClass(r), text: statusText(r) })),
    el('p', { className: 'muted', text: [`${r.proto}://${r.host}`, `from ${r.clientAddress}`, new Date(r.startedAt).toLocaleString(), timing, r.error ?? ''].filter(Boolean).join(' · ') }),
    el('h3', { text: 'Request headers' }),
    headersTable(r.requestHeaders),
    el('h3', { text: `Request body (${bytes(r.bytesIn)})` }),
    bodyView(r.requestBody),
    el('h3', { text: 'Response headers' }),
    headersTable(r.responseHeaders),
    el('h3', { text: `Response body (${bytes(r.bytesOut)})` }),
    bodyView(r.responseBody),
  );
}

function button(text: string, onClick: () => void, secondary = false): HTMLButtonElement {
  const b = el('button', { text, className: secondary ? 'secondary' : '' });
  b.addEventListener('click', onClick);
  return b;
}

function editForm(r: CapturedRequest, key: string): HTMLElement {
  const method = el('input');
  method.value = r.method;
  method.setAttribute('aria-label', 'Method');
  const path = el('input');
  path.value = r.path;
  path.setAttribute('aria-label', 'Path');
  const headers = el('textarea', { className: 'edit-headers' });
  headers.setAttribute('aria-label', 'Headers, one "Name: value" a line');
  const lines: string[] = [];
  for (let i = 0; i + 1 < r.requestHeaders.length; i += 2) lines.push(`${r.requestHeaders[i]}: ${r.requestHeaders[i + 1]}`);
  headers.value = lines.join('\n');
  const body = el('textarea', { className: 'edit-body' });
  body.setAttribute('aria-label', 'Body');
  body.value = r.requestBody.kind === 'text' || r.requestBody.kind === 'json' ? (r.requestBody.text ?? '') : '';
  const form = el('div', { className: 'edit' }, el('h3', { text: 'Edit and replay' }), el('div', { className: 'row' }, method, path), headers, body);
  form.append(
    button('Send', () => {
      const pairs = headers.value.split('\n').filter((l) => l.includes(':')).flatMap((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]);
      send({ type: 'replay', key, edit: { method: method.value.trim(), path: path.value.trim(), headers: pairs, body: body.value } });
      status('Replaying…');
    }),
  );
  return form;
}

function status(text: string): void {
  $('count').textContent = text;
}

function showDetail(r: CapturedRequest): void {
  shown = r;
  const key = selected!;
  const actions = el(
    'div',
    { className: 'actions' },
    button('Replay', () => {
      send({ type: 'replay', key });
      status('Replaying…');
    }),
    button('Edit and Replay…', () => detail.querySelector('.edit') ?? detail.insertBefore(editForm(r, key), detail.children[1] ?? null), true),
    button('Copy as curl', () => send({ type: 'copyCurl', key }), true),
  );
  detail.replaceChildren(actions, el('div', { className: 'columns' }, exchangeView(r, `#${r.id}`)));
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'rows':
      if (m.all) rows.clear();
      for (const r of m.rows) rows.set(r.key, r);
      // The same bound as the extension's store: the oldest (first in the Map) go.
      for (const key of rows.keys()) {
        if (rows.size <= m.limit) break;
        rows.delete(key);
      }
      renderRoutes();
      renderList();
      return;
    case 'filterRoute':
      renderRoutes();
      if (![...routeFilter.options].some((o) => o.value === m.route)) routeFilter.append(new Option(m.route, m.route));
      routeFilter.value = m.route;
      renderList();
      return;
    case 'detail':
      if (m.key !== selected) return;
      if (m.request) showDetail(m.request);
      else detail.replaceChildren(el('p', { className: 'status-error', text: m.error ?? 'not available' }));
      return;
    case 'replayed': {
      if (m.key !== selected || !shown) return;
      if (!m.replay) return status(`Replay failed: ${m.error ?? 'unknown error'}`);
      status(`Replayed as #${m.replay.id}`);
      const columns = detail.querySelector('.columns');
      columns?.replaceChildren(exchangeView(shown, `Original #${shown.id}`), exchangeView(m.replay, `Replay #${m.replay.id}`));
      columns?.classList.add('side-by-side');
      return;
    }
    case 'notice':
      return status(m.text);
  }
});

tbody.addEventListener('click', (e) => {
  const tr = (e.target as HTMLElement).closest('tr');
  if (tr?.dataset.key) select(tr.dataset.key);
});
tbody.addEventListener('keydown', (e) => {
  const keys = [...tbody.querySelectorAll('tr')].map((tr) => tr.dataset.key!);
  if (keys.length === 0) return;
  const at = selected ? keys.indexOf(selected) : -1;
  const next = e.key === 'ArrowDown' ? Math.min(at + 1, keys.length - 1) : e.key === 'ArrowUp' ? Math.max(at - 1, 0) : e.key === 'Home' ? 0 : e.key === 'End' ? keys.length - 1 : -2;
  if (next === -2) return;
  e.preventDefault();
  select(keys[next]);
  tbody.querySelector('tr.selected')?.scrollIntoView({ block: 'nearest' });
});
for (const input of [textFilter, routeFilter, statusFilter]) input.addEventListener('input', renderList);
$('clear').addEventListener('click', () => send({ type: 'clear' }));
send({ type: 'ready' });
