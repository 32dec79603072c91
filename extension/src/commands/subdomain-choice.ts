/**
 * Which subdomain Share Port offers: the assigned hostname itself while it is free, else a free
 * name made from what is shared (port-3000, the folder's name), so a second Share Port never
 * silently replaces the first. No `vscode` import (unit-tested).
 */
import type { HttpRoute } from '../../../protocol/rpc';

/** '' → the hostname itself; a label → label.hostname (as the agent's route/add resolves it). */
export function domainOf(subdomain: string, hostname: string): string {
  const label = subdomain.trim().toLowerCase();
  return label ? `${label}.${hostname}` : hostname;
}

/** A DNS label from free text ("My Site!" → "my-site"), or '' when nothing usable is left. */
function labelOf(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '');
}

/** The default answer of the subdomain box: '' when the hostname is free, else a free label. */
export function suggestSubdomain(routes: HttpRoute[], hostname: string, what: { port: number } | { folder: string }): string {
  const taken = new Set(routes.map((r) => r.domain));
  if (!taken.has(hostname)) return '';
  const base = ('port' in what ? `port-${what.port}` : labelOf(what.folder.split(/[\\/]/).filter(Boolean).pop() ?? '')) || 'app';
  for (let n = 1; ; n++) {
    const label = n === 1 ? base : `${base}-${n}`;
    if (!taken.has(domainOf(label, hostname))) return label;
  }
}

/** The route a subdomain answer would replace, if any. */
export function routeReplacedBy(routes: HttpRoute[], hostname: string, subdomain: string): HttpRoute | undefined {
  const domain = domainOf(subdomain, hostname);
  return routes.find((r) => r.domain === domain);
}
