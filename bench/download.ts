// Single-stream download of the origin's /big: curl when installed (a separate process, like a
// real client), else a Node client in this process. Either way the whole body is read and counted.
import { execFile, spawnSync } from 'node:child_process';
import * as http from 'node:http';
import { track } from './children';
import { BIG_BYTES } from './origin';

export interface Target {
  port: number; // on 127.0.0.1
  host?: string; // Host header (a tunnel hostname); omitted = 127.0.0.1:port
}

export interface Download {
  bytes: number;
  seconds: number;
  mbPerSec: number; // 10^6 bytes per second
}

const MAX_SECONDS = 60;

const hasCurl = !spawnSync('curl', ['--version']).error;

export function downloaderName(): string {
  return hasCurl ? 'curl' : 'node http client';
}

function curlDownload(target: Target, path: string): Promise<Download> {
  const args = [
    '-sS', '-o', '/dev/null', '--noproxy', '*', '--max-time', String(MAX_SECONDS),
    '-w', '%{http_code} %{size_download} %{time_total}',
    ...(target.host ? ['-H', `Host: ${target.host}`] : []),
    `http://127.0.0.1:${target.port}${path}`,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile('curl', args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl ${path} via ${target.host ?? 'direct'}: ${stderr.trim() || err.message}`));
      const [code, size, time] = stdout.trim().split(' ').map(Number);
      if (code !== 200) return reject(new Error(`download ${path} via ${target.host ?? 'direct'}: HTTP ${code}`));
      resolve({ bytes: size, seconds: time, mbPerSec: size / time / 1e6 });
    });
    track(child);
  });
}

function nodeDownload(target: Target, path: string): Promise<Download> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const headers = target.host ? { host: target.host } : undefined;
    const req = http.get({ host: '127.0.0.1', port: target.port, path, headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`download ${path} via ${target.host ?? 'direct'}: HTTP ${res.statusCode}`));
      }
      let bytes = 0;
      res.on('data', (data: Buffer) => {
        bytes += data.length;
      });
      res.on('end', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        resolve({ bytes, seconds, mbPerSec: bytes / seconds / 1e6 });
      });
      res.on('error', reject);
    });
    req.setTimeout(MAX_SECONDS * 1000, () => req.destroy(new Error(`download ${path}: no data for ${MAX_SECONDS} s`)));
    req.on('error', reject);
  });
}

/** One full download of /big; rejects unless exactly BIG_BYTES arrived with a 200. */
export async function downloadBig(target: Target): Promise<Download> {
  const result = await (hasCurl ? curlDownload(target, '/big') : nodeDownload(target, '/big'));
  if (result.bytes !== BIG_BYTES) {
    throw new Error(`download /big via ${target.host ?? 'direct'}: ${result.bytes} bytes, expected ${BIG_BYTES}`);
  }
  return result;
}

export interface DownloadSeries {
  runs: Download[];
  medianMbPerSec: number;
}

/**
 * Repeats the download (one at a time) until at least `minRuns` runs and `minSeconds` have passed,
 * capped by `maxRuns` and `maxSeconds`: one 100 MiB transfer on loopback can take under 0.1 s.
 */
export async function downloadSeries(target: Target, minRuns = 3, minSeconds = 2, maxRuns = 15, maxSeconds = 20): Promise<DownloadSeries> {
  const runs: Download[] = [];
  const started = Date.now();
  const elapsed = (): number => (Date.now() - started) / 1000;
  while (runs.length < maxRuns && elapsed() < maxSeconds && (runs.length < minRuns || elapsed() < minSeconds)) {
    runs.push(await downloadBig(target));
  }
  const sorted = runs.map((r) => r.mbPerSec).sort((a, b) => a - b);
  return { runs, medianMbPerSec: sorted[Math.floor(sorted.length / 2)] };
}
