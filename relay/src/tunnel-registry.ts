import { EventEmitter } from 'node:events';
import { CloseCode } from '../../protocol/control';
import type { AgentSession } from './agent-session';

/** The live sessions, by hostname. A new session for the same identity replaces the old one. */
export class TunnelRegistry extends EventEmitter {
  private readonly byHostname = new Map<string, AgentSession>();

  get size(): number {
    return this.byHostname.size;
  }

  get(hostname: string): AgentSession | undefined {
    return this.byHostname.get(hostname);
  }

  add(session: AgentSession): void {
    // An agent that lost its network reconnects before the relay notices: the old session goes.
    for (const [hostname, existing] of this.byHostname) {
      if (existing.identityId === session.identityId) {
        this.byHostname.delete(hostname);
        existing.close(CloseCode.Replaced, 'replaced by a newer session of the same agent');
      }
    }
    this.byHostname.set(session.hostname, session);
    session.mux.once('close', (reason: string) => {
      if (this.byHostname.get(session.hostname) === session) this.byHostname.delete(session.hostname);
      this.emit('offline', session, reason);
    });
    this.emit('online', session);
  }

  all(): AgentSession[] {
    return [...this.byHostname.values()];
  }
}
