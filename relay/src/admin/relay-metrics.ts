import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { TunnelRegistry } from '../tunnel-registry';
import type { RelayCounters } from './counters';

/**
 * The relay's Prometheus registry. Every value is read at scrape time (collect callbacks) from
 * the plain counters the hot paths add to and from the live sessions, so serving traffic costs
 * no prom-client call at all. Default Node process metrics are included.
 */
export function relayMetrics(counters: RelayCounters, registry: TunnelRegistry): Registry {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const sessions = () => registry.all();
  new Gauge({
    name: 'portway_tunnels',
    help: 'Tunnels (agent sessions) online',
    registers: [metrics],
    collect() {
      this.set(registry.size);
    },
  });
  new Gauge({
    name: 'portway_streams',
    help: 'Streams open over all agent sessions (requests, WebSockets, TCP connections in flight)',
    registers: [metrics],
    collect() {
      this.set(sessions().reduce((sum, s) => sum + s.mux.streamCount, 0));
    },
  });
  new Counter({
    name: 'portway_http_requests_total',
    help: 'Visitor HTTP requests answered, by status code (fast and full path)',
    labelNames: ['code'],
    registers: [metrics],
    collect() {
      this.reset();
      counters.responsesByCode.forEach((count, code) => {
        if (count > 0) this.inc({ code: String(code) }, count);
      });
    },
  });
  new Counter({
    name: 'portway_bytes_total',
    help: 'Visitor bytes through tunnels: in = received from visitors, out = sent to them',
    labelNames: ['direction'],
    registers: [metrics],
    collect() {
      let liveIn = 0;
      let liveOut = 0;
      for (const session of sessions()) {
        const traffic = session.traffic;
        liveIn += traffic.liveIn;
        liveOut += traffic.liveOut;
      }
      this.reset();
      this.inc({ direction: 'in' }, counters.closedBytesIn + liveIn);
      this.inc({ direction: 'out' }, counters.closedBytesOut + liveOut);
    },
  });
  new Counter({
    name: 'portway_agent_sessions_total',
    help: 'Agent connections by result: accepted, or why they were refused',
    labelNames: ['result'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const [result, count] of counters.agentSessions) this.inc({ result }, count);
    },
  });
  const plain = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [metrics],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  plain('portway_tcp_connections_total', 'Connections forwarded on allocated TCP ports', () => counters.tcpConnections);
  plain('portway_request_body_timeouts_total', 'Request bodies cut for sending nothing for --body-timeout-ms (408, or a reset once an answer started)', () => counters.bodyTimeouts);
  plain('portway_fast_path_requests_total', 'Visitor requests forwarded on the fast path (raw bytes, one stream per connection)', () => counters.fastPathRequests);
  plain('portway_firewall_refusals_total', 'Visitor requests and connections a route firewall refused', () => counters.firewallRefusals);
  return metrics;
}
