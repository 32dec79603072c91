import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { TOKENS_USAGE_PATH, type TokenUsageInfo, type TokenUsageResponse } from '../security/token-usage';
import type { TunnelInfo, TunnelListResponse } from './tunnel-list';

export const METRICS_PATH = '/metrics';
export const TUNNELS_PATH = '/tunnels';

export interface AdminSources {
  metrics: Registry;
  tunnels(): TunnelInfo[];
  /** Per-token usage for `portway-relay token ls --admin URL`. */
  tokens(): TokenUsageInfo[];
}

/**
 * The operator's port, separate from the public one (bound to 127.0.0.1 unless told otherwise):
 * Prometheus text at /metrics, the online tunnels as JSON at /tunnels, per-token usage at /tokens. Read-only; no secrets.
 */
export class AdminServer {
  private readonly server: http.Server;

  constructor(private readonly sources: AdminSources) {
    this.server = http.createServer((req, res) => void this.serve(req, res));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (path === METRICS_PATH) {
      const text = await this.sources.metrics.metrics();
      return void res.writeHead(200, { 'content-type': this.sources.metrics.contentType, 'cache-control': 'no-store' }).end(text);
    }
    if (path === TUNNELS_PATH) {
      const body: TunnelListResponse = { tunnels: this.sources.tunnels() };
      return void res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    }
    if (path === TOKENS_USAGE_PATH) {
      const body: TokenUsageResponse = { tokens: this.sources.tokens() };
      return void res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; try ${METRICS_PATH}, ${TUNNELS_PATH} or ${TOKENS_USAGE_PATH}\n`);
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
