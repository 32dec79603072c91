// Reads the origin's counters (GET /__stats, straight to the origin, never through the tunnel).
import * as http from 'node:http';

export interface OriginStats {
  connections: number;
  requests: number;
}

export function fetchOriginStats(port: number): Promise<OriginStats> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/__stats', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        body += text;
      });
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as Partial<OriginStats>;
          resolve({ connections: Number(parsed.connections), requests: Number(parsed.requests) });
        } catch (err) {
          reject(new Error(`origin /__stats: ${String(err)}`));
        }
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error('origin /__stats timed out')));
    req.on('error', reject);
  });
}

/** Counters between two reads, minus the one connection and request of the second read itself. */
export function statsDelta(before: OriginStats, after: OriginStats): OriginStats {
  return { connections: after.connections - before.connections - 1, requests: after.requests - before.requests - 1 };
}
