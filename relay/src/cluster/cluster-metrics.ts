/** The cluster's fields in the relay's Prometheus registry (held tunnels are portway's tunnel gauge already). */
import { Counter, type Registry } from 'prom-client';
import { clusterCounters } from './relay-cluster';

export function addClusterMetrics(metrics: Registry): Registry {
  new Counter({
    name: 'portway_cluster_forwarded_requests_total',
    help: 'Visitor requests and upgrades this relay forwarded to the relay holding their tunnel',
    registers: [metrics],
    collect() {
      this.reset();
      this.inc(clusterCounters.forwardedRequests);
    },
  });
  return metrics;
}
