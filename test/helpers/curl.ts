/**
 * Runs the real `curl` against a URL, so a test sees exactly what a visitor's client sees: its
 * exit code (0 complete, 18 partial, 52 empty reply, 56 connection reset…) and the bytes it got.
 */
import { spawn } from 'node:child_process';

export interface CurlResult {
  /** curl's exit code. */
  code: number;
  /** HTTP status of the last response (0 when none). */
  status: number;
  /** Body bytes received. */
  bytes: number;
  body: Buffer;
}

export interface CurlOptions {
  /** Host header (the tunnel's hostname); the URL's own otherwise. */
  host?: string;
  /** More curl arguments (e.g. ['--data-binary', '@file']). */
  args?: string[];
  /** Called once, when the first body bytes arrived. */
  onBody?: () => void;
  /** Bytes written to curl's stdin (for `--data-binary @-`). */
  stdin?: Buffer;
}

export function curl(url: string, options: CurlOptions = {}): Promise<CurlResult> {
  const args = ['-sS', '--no-buffer', '-o', '-', '-w', '%{stderr}\nstatus=%{http_code}\n'];
  if (options.host) args.push('-H', `Host: ${options.host}`);
  args.push(...(options.args ?? []), url);
  const child = spawn('curl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let stderr = '';
  let told = false;
  child.stdout.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    if (!told && options.onBody) {
      told = true;
      options.onBody();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => undefined); // curl may exit before reading all of it
  child.stdin.end(options.stdin);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const body = Buffer.concat(chunks);
      resolve({ code: code ?? -1, status: Number(/status=(\d+)/.exec(stderr)?.[1] ?? 0), bytes: body.length, body });
    }),
  );
}
