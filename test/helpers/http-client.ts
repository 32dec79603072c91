import * as http from 'node:http';

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request to 127.0.0.1:port with the given Host, body collected. With `timeoutMs`, a request
 * that gets no answer in time fails with an error saying so (instead of waiting forever).
 */
export function request(
  port: number,
  host: string,
  options: { path?: string; method?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<SimpleResponse> {
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
    if (options.timeoutMs) {
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer from ${host} via 127.0.0.1:${port} within ${options.timeoutMs} ms`)));
    }
    req.on('error', reject);
    req.end(options.body);
  });
}
