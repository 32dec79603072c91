/** `portway-relay tunnels ls [--json] --admin URL`: who is online, read from a relay's admin port. */
import * as http from 'node:http';
import * as https from 'node:https';
import { TUNNELS_PATH } from './admin-server';
import type { TunnelInfo, TunnelListResponse } from './tunnel-list';

export const TUNNELS_HELP = `Usage: portway-relay tunnels ls [--json] --admin URL

Lists the tunnels online on a relay, from its admin port (--admin-port).
  --admin URL   the relay's admin address, e.g. http://127.0.0.1:9090   [PORTWAY_ADMIN_URL]
  --json        print the JSON the relay answers instead of a table
`;

/** Runs the command; returns the exit code (2: usage, 1: the relay could not be asked). */
export async function runTunnelsCli(argv: readonly string[], env: Record<string, string | undefined>): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(TUNNELS_HELP);
    return 0;
  }
  const [command, ...rest] = argv;
  if (command !== 'ls') return usage(command === undefined ? 'a command is required' : `unknown command "${command}"`);
  let json = false;
  let admin = env.PORTWAY_ADMIN_URL;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--json') json = true;
    else if (rest[i] === '--admin') admin = rest[++i];
    else if (rest[i].startsWith('--admin=')) admin = rest[i].slice('--admin='.length);
    else return usage(`unexpected argument "${rest[i]}"`);
  }
  if (!admin) return usage('--admin URL is required (the relay\'s --admin-port address)');
  let url: URL;
  try {
    url = new URL(TUNNELS_PATH, admin);
  } catch {
    return usage(`"${admin}" is not a URL`);
  }
  let body: TunnelListResponse;
  try {
    body = JSON.parse(await getText(url)) as TunnelListResponse;
  } catch (err) {
    process.stderr.write(`portway-relay tunnels: cannot read ${url}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(json ? `${JSON.stringify(body, null, 2)}\n` : formatTable(body.tunnels));
  return 0;
}

/** GET without keep-alive (fetch's pooled connection would hold the process open for seconds). */
export function getText(url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? https.get : http.get;
    get(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`answered ${res.statusCode}`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function usage(message: string): number {
  process.stderr.write(`portway-relay tunnels: ${message}\n\n${TUNNELS_HELP}`);
  return 2;
}

/** A byte count for a person: B, KiB or MiB. */
export const bytes = (n: number): string => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);

export function formatTable(tunnels: TunnelInfo[]): string {
  if (tunnels.length === 0) return 'No tunnels online.\n';
  const rows = [
    ['HOSTNAME', 'TOKEN', 'AGENT', 'SINCE', 'STREAMS', 'IN', 'OUT', 'ROUTES'],
    ...tunnels.map((t) => [
      t.hostname,
      t.token ? `${t.token.name ?? '?'} (${t.token.id})` : '-',
      t.agentAddress,
      t.connectedSince,
      String(t.openStreams),
      bytes(t.bytesIn),
      bytes(t.bytesOut),
      [...t.routes.http, ...t.routes.tcp.map((p) => `tcp:${p}`)].join(',') || '-',
    ]),
  ];
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  return rows.map((row) => row.map((cell, col) => cell.padEnd(widths[col])).join('  ').trimEnd()).join('\n') + '\n';
}
