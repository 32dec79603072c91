/**
 * The Routes tree as plain data: HTTP routes and TCP ports at the top, each with its firewall
 * rules as children. No `vscode` import, so it is unit-tested without an editor.
 */
import type { FirewallRule, HttpRoute, RouteList, RouteRef, TcpPortRoute } from '../../../protocol/rpc';
import { ItemContext } from '../ids';

export type RouteNode =
  | { kind: 'http'; id: string; route: HttpRoute }
  | { kind: 'tcp'; id: string; route: TcpPortRoute }
  | { kind: 'rule'; id: string; parent: RouteRef; rule: FirewallRule; index: number };

export interface NodeView {
  label: string;
  description?: string;
  tooltip: string;
  /** A codicon id. */
  icon: string;
  contextValue: string;
  /** none: a leaf; expanded: may have children (rules), shown open so a new rule is seen at once. */
  collapsible: 'none' | 'expanded';
}

export function routeRefOf(node: RouteNode): RouteRef {
  switch (node.kind) {
    case 'http':
      return { kind: 'http', domain: node.route.domain };
    case 'tcp':
      return { kind: 'tcp', port: node.route.port };
    case 'rule':
      return node.parent;
  }
}

export function rootNodes(list: RouteList): RouteNode[] {
  const http = [...list.http]
    .sort((a, b) => a.domain.length - b.domain.length || a.domain.localeCompare(b.domain))
    .map((route): RouteNode => ({ kind: 'http', id: `http:${route.domain}`, route }));
  const tcp = [...list.tcp].sort((a, b) => a.port - b.port).map((route): RouteNode => ({ kind: 'tcp', id: `tcp:${route.port}`, route }));
  return [...http, ...tcp];
}

export function childNodes(node: RouteNode): RouteNode[] {
  if (node.kind === 'rule') return [];
  const parent = routeRefOf(node);
  return node.route.firewall.map((rule, index) => ({ kind: 'rule', id: `${node.id}/rule:${rule.action}:${rule.network}`, parent, rule, index }));
}

export function destinationText(route: HttpRoute): string {
  switch (route.kind) {
    case 'webroot':
      return `folder ${route.webroot ?? '?'}`;
    case 'passthrough':
      return `${route.destination}:${route.tlsPort} (TLS passthrough)${route.httpPort ? `, http :${route.httpPort}` : ''}`;
    case 'proxy':
      return `${route.destination ?? '127.0.0.1'}:${route.httpPort ?? '?'}`;
  }
}

function rulesSummary(rules: FirewallRule[]): string {
  if (rules.length === 0) return 'Firewall: open to everyone';
  const allows = rules.filter((r) => r.action === 'allow').length;
  const drops = rules.length - allows;
  if (allows > 0) return `Firewall: only ${allows} allowed network(s)${drops ? `, ${drops} dropped` : ''}`;
  return `Firewall: ${drops} dropped network(s)`;
}

/** A route the relay refused: said first in the description, with the relay's reason in the tooltip. */
function withRejection(view: NodeView, rejected: string | undefined): NodeView {
  if (rejected === undefined) return view;
  return {
    ...view,
    description: `refused by the relay ${view.description ?? ''}`.trim(),
    tooltip: `The relay refused this route: ${rejected}\n${view.tooltip}`,
    icon: 'error',
  };
}

export function describeNode(node: RouteNode): NodeView {
  switch (node.kind) {
    case 'http': {
      const r = node.route;
      const tls = r.tls === 'acme' ? ', TLS (ACME)' : r.tls === 'custom' ? ', TLS (own cert)' : '';
      const view: NodeView = {
        label: r.domain,
        description: `→ ${destinationText(r)}`,
        tooltip: `${r.url}\n→ ${destinationText(r)}${tls}${r.redirectToHttps ? '\nRedirects HTTP to HTTPS' : ''}\n${rulesSummary(r.firewall)}`,
        icon: r.kind === 'webroot' ? 'folder' : 'globe',
        contextValue: ItemContext.HttpRoute,
        collapsible: 'expanded',
      };
      return withRejection(view, r.rejected);
    }
    case 'tcp': {
      const r = node.route;
      const dest = r.destinationPort ? `${r.destination ?? '127.0.0.1'}:${r.destinationPort}` : 'not forwarded';
      const view: NodeView = {
        label: `TCP ${r.address}`,
        description: `→ ${dest}`,
        tooltip: `${r.address}\n→ ${dest}\n${rulesSummary(r.firewall)}`,
        icon: 'plug',
        contextValue: ItemContext.TcpPort,
        collapsible: 'expanded',
      };
      return withRejection(view, r.rejected);
    }
    case 'rule':
      return {
        label: `${node.rule.action} ${node.rule.network}`,
        description: node.rule.action === 'allow' ? 'allowed' : 'dropped',
        tooltip: node.rule.action === 'allow' ? `Only allowed networks may connect; ${node.rule.network} is one` : `Connections from ${node.rule.network} are refused by the relay`,
        icon: node.rule.action === 'allow' ? 'pass' : 'circle-slash',
        contextValue: ItemContext.FirewallRule,
        collapsible: 'none',
      };
  }
}
