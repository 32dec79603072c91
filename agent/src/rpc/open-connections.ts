/**
 * The connections the extension sees: the runtime's open streams as protocol ConnectionInfo,
 * with their byte counts reported live while open (coalesced, about once a second) and finally
 * at close. Knows nothing of JSON-RPC: it hands AgentCoreEvents to `emit`.
 */
import type { ConnectionInfo } from '../../../protocol/rpc';
import type { ConnectionInfo as RuntimeConnection } from '../runtime/agent-runtime';
import type { AgentCoreEvent } from './agent-core';
import { ByteCountReporter, type ByteCounters, type ByteCountReporterOptions } from './byte-count-reporter';

interface OpenConnection {
  info: ConnectionInfo;
  counters: ByteCounters;
}

export class OpenConnections {
  /** By the runtime's stream id. */
  private readonly open = new Map<number, OpenConnection>();
  private seq = 0;
  private readonly reporter: ByteCountReporter;

  constructor(
    private readonly emit: (event: AgentCoreEvent) => void,
    reporterOptions: Omit<ByteCountReporterOptions, 'report'> = {},
  ) {
    this.reporter = new ByteCountReporter({ ...reporterOptions, report: (connections) => this.emit({ type: 'connectionUpdate', update: { connections } }) });
  }

  opened(c: RuntimeConnection): void {
    const info: ConnectionInfo = {
      id: `c${++this.seq}`,
      route: c.route,
      clientAddress: c.remoteAddress,
      openedAt: c.openedAt,
      bytesIn: c.counters.bytesIn,
      bytesOut: c.counters.bytesOut,
    };
    this.open.set(c.id, { info, counters: c.counters });
    this.reporter.track(info.id, c.counters);
    this.emit({ type: 'connectionOpen', connection: { ...info } });
  }

  /** The runtime's close, with the stream's final counts. */
  closed(c: { id: number; bytesIn: number; bytesOut: number }): void {
    const connection = this.open.get(c.id);
    if (!connection) return;
    this.open.delete(c.id);
    this.reporter.untrack(connection.info.id);
    this.emit({ type: 'connectionClose', close: { id: connection.info.id, bytesIn: c.bytesIn, bytesOut: c.bytesOut, closedAt: Date.now() } });
  }

  /** Open connections with their counts as of now. */
  list(): ConnectionInfo[] {
    return [...this.open.values()].map(({ info, counters }) => ({ ...info, bytesIn: counters.bytesIn, bytesOut: counters.bytesOut }));
  }

  /** The runtime went away under its connections: each is reported closed, with its last counts. */
  closeAll(): void {
    for (const id of [...this.open.keys()]) {
      const { counters } = this.open.get(id)!;
      this.closed({ id, bytesIn: counters.bytesIn, bytesOut: counters.bytesOut });
    }
  }

  dispose(): void {
    this.open.clear();
    this.reporter.dispose();
  }
}
