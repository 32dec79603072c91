/**
 * Which listening ports the user is offered: not the agent's, not the editor's own (its server,
 * its extension host), not the relay's when it runs on this machine, nor ports already shared.
 * And which of them are new since the last look, each offered once: only those of a process
 * running inside a workspace folder (a dev server started there), not the machine's other
 * listeners. No `vscode` import.
 */
import * as path from 'node:path';
import type { ListeningPort, RouteList } from '../../protocol/rpc';

export interface OwnPorts {
  /** Processes whose ports are ours: the agent, the extension host and its parents. */
  pids: ReadonlySet<number>;
  /** The relay's URL: its port is hidden when the relay is on this machine. */
  relayUrl?: string;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1', '0.0.0.0']);

function relayPort(relayUrl: string | undefined): number | undefined {
  if (!relayUrl) return undefined;
  try {
    const url = new URL(/^[a-z]+:\/\//i.test(relayUrl) ? relayUrl : `http://${relayUrl}`);
    if (!LOCAL_HOSTS.has(url.hostname)) return undefined;
    return Number(url.port) || (url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80);
  } catch {
    return undefined;
  }
}

/** The ports worth offering in the picker. */
export function shareablePorts(ports: ListeningPort[], own: OwnPorts): ListeningPort[] {
  const relay = relayPort(own.relayUrl);
  return ports.filter((p) => !(p.pid !== undefined && own.pids.has(p.pid)) && p.port !== relay);
}

/** Whether the port's process runs in one of the workspace folders (or below). */
export function inWorkspace(port: ListeningPort, folders: readonly string[]): boolean {
  const cwd = port.cwd;
  if (!cwd) return false;
  return folders.some((folder) => {
    const rel = path.relative(folder, cwd);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
}

/**
 * Remembers the ports seen; `fresh` returns those never seen before (the first look only learns)
 * whose process runs in a workspace folder.
 */
export class NewPortTracker {
  private seen: Set<number> | undefined;

  fresh(ports: ListeningPort[], routes: RouteList, workspaceFolders: readonly string[]): number[] {
    const now = new Set(ports.map((p) => p.port));
    const first = this.seen === undefined;
    const seen = (this.seen ??= new Set());
    const shared = new Set(routes.http.map((r) => r.httpPort).concat(routes.tcp.map((t) => t.destinationPort)));
    const ours = new Set(ports.filter((p) => inWorkspace(p, workspaceFolders)).map((p) => p.port));
    const added = [...now].filter((p) => !seen.has(p)).sort((a, b) => a - b);
    for (const p of now) seen.add(p);
    return first ? [] : added.filter((p) => !shared.has(p) && ours.has(p));
  }
}
