import * as http from 'node:http';

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request to 127.0.0.1:port with the given Host, body collected. */
export function request(port: number, host: string, options: { path?: string; method?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: http.Agent } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: options.path ?? '/', method: options.method ?? 'GET', headers: { host, ...options.headers }, agent: options.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls until the request answers with the wanted status (bounded), for routes that apply asynchronously. */
export async function waitForStatus(port: number, host: string, status: number, options: { path?: string; timeoutMs?: number } = {}): Promise<SimpleResponse> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: SimpleResponse | Error | undefined;
  while (Date.now() < deadline) {
    try {
      last = await request(port, host, { path: options.path });
      if (last.status === status) return last;
    } catch (err) {
      last = err as Error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected ${status} from ${host}; last: ${last instanceof Error ? last.message : `${last?.status} ${last?.body.toString().slice(0, 200)}`}`);
}
