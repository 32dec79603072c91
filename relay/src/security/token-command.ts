/**
 * `portway-relay token create|ls|revoke`: the operator's side of per-user tokens. Runs as its own
 * short-lived process against the data directory; a running relay notices the change on disk.
 * The new token is the only thing written to stdout, so `TOKEN=$(portway-relay token create …)`
 * works; everything meant for a person goes to stderr.
 */
import { bytes as formatBytes, getText } from '../admin/tunnels-cli';
import { openTokenStore, type OpenedTokenStore } from '../cluster/token-store-opener';
import type { TokenRecord } from './token-store';
import { TOKENS_USAGE_PATH, type TokenUsageInfo, type TokenUsageResponse } from './token-usage';

export const TOKEN_HELP = `Usage: portway-relay token <command> [options]

Per-user tokens for agents. Only a hash of each token is stored; a token is shown once.

Commands:
  create --name N [--max-tunnels N] [--max-tcp-ports N] [--max-identities N]
                                                         create a token, print it to stdout
  ls [--json] [--admin URL]                              list tokens (never the tokens themselves) with the
                                                         identities each holds; with the relay's admin port
                                                         also tunnels online, bytes and refusals in the last hour
  revoke NAME|ID                                         revoke a token; the relay closes its sessions

Options:
  --data-dir DIR      the relay's data directory   [DATA_DIR] (default ./portway-data)
  --redis URL         the tokens of a cluster of relays, in Redis   [REDIS_URL] (instead of --data-dir)
  --admin URL         the running relay's admin address, e.g. http://127.0.0.1:9090   [PORTWAY_ADMIN_URL]
`;

/** A mistake in the command line; the caller prints it and exits with status 2. */
export class TokenCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenCommandError';
  }
}

export interface TokenCommandIo {
  /** Machine-readable output (the token, `ls`). */
  out: (text: string) => void;
  /** Messages for a person. */
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

const FLAGS_WITH_VALUES: Record<string, readonly string[]> = {
  create: ['name', 'max-tunnels', 'max-tcp-ports', 'max-identities', 'data-dir', 'redis'],
  ls: ['data-dir', 'admin', 'redis'],
  revoke: ['data-dir', 'redis'],
};
const BOOLEAN_FLAGS: Record<string, readonly string[]> = { create: [], ls: ['json'], revoke: [] };

/** Runs `token …` (argv after the word `token`). Rejects with TokenCommandError or a store error. */
export async function runTokenCommand(argv: readonly string[], io: TokenCommandIo): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(TOKEN_HELP);
    return;
  }
  if (!(command in FLAGS_WITH_VALUES)) throw new TokenCommandError(`unknown token command "${command}" (create, ls or revoke)`);
  const { flags, positional } = parseFlags(command, rest);
  const dataDir = flags.get('data-dir') ?? io.env.DATA_DIR ?? './portway-data';
  const opened = await openTokenStore(flags.get('redis') ?? (io.env.REDIS_URL || undefined), dataDir);
  try {
    await runOn(opened, command, flags, positional, io);
  } finally {
    await opened.close();
  }
}

async function runOn({ store, identities }: OpenedTokenStore, command: string, flags: Map<string, string>, positional: string[], io: TokenCommandIo): Promise<void> {
  switch (command) {
    case 'create': {
      if (positional.length > 0) throw new TokenCommandError(`unexpected argument "${positional[0]}"`);
      const name = flags.get('name');
      if (name === undefined) throw new TokenCommandError('token create needs --name N');
      const { token, record } = await store.create({
        name,
        maxTunnels: optionalCount(flags, 'max-tunnels'),
        maxTcpPorts: optionalCount(flags, 'max-tcp-ports'),
        maxIdentities: optionalCount(flags, 'max-identities'),
      });
      io.out(`${token}\n`);
      io.err(`created token "${record.name}" (${record.id}); it is shown only this once, store it now\n`);
      return;
    }
    case 'ls': {
      if (positional.length > 0) throw new TokenCommandError(`unexpected argument "${positional[0]}"`);
      const rows = await usageRows(store.list(), await identities(), flags.get('admin') ?? io.env.PORTWAY_ADMIN_URL);
      io.out(flags.has('json') ? JSON.stringify(rows, null, 2) + '\n' : formatTable(rows));
      if (rows.length > 0 && rows[0].tunnelsOnline === undefined) io.err('tunnels online, bytes and refusals come from a running relay: add --admin URL (its --admin-port)\n');
      return;
    }
    case 'revoke': {
      if (positional.length !== 1) throw new TokenCommandError('token revoke needs exactly one token name or id');
      const record = await store.revoke(positional[0]);
      io.err(`revoked token "${record.name}" (${record.id}); a running relay closes its sessions\n`);
      return;
    }
  }
}

function parseFlags(command: string, argv: readonly string[]): { flags: Map<string, string>; positional: string[] } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (BOOLEAN_FLAGS[command].includes(name) && eq < 0) {
      flags.set(name, 'true');
      continue;
    }
    if (!FLAGS_WITH_VALUES[command].includes(name)) throw new TokenCommandError(`unknown option --${name} for token ${command}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new TokenCommandError(`--${name} needs a value`);
    if (flags.has(name)) throw new TokenCommandError(`--${name} given twice`);
    flags.set(name, value);
  }
  return { flags, positional };
}

function optionalCount(flags: Map<string, string>, name: string): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new TokenCommandError(`--${name} must be a whole number of 0 or more (got "${text}")`);
  return Number(text);
}

/** A token as `token ls` shows it: its record, the identities it holds and, from a running relay, its usage. */
export type TokenUsageRow = TokenRecord & { identities: number } & Partial<Omit<TokenUsageInfo, 'id'>>;

async function usageRows(records: TokenRecord[], identityRecords: Map<string, { tokenId?: string }>, admin: string | undefined): Promise<TokenUsageRow[]> {
  const identities = new Map<string, number>();
  for (const record of identityRecords.values()) {
    if (record.tokenId !== undefined) identities.set(record.tokenId, (identities.get(record.tokenId) ?? 0) + 1);
  }
  const usage = admin === undefined ? undefined : await readUsage(admin);
  return records.map((record) => {
    const live = usage?.get(record.id);
    const row: TokenUsageRow = { ...record, identities: identities.get(record.id) ?? 0 };
    if (usage) Object.assign(row, { tunnelsOnline: live?.tunnelsOnline ?? 0, bytesLastHour: live?.bytesLastHour ?? 0, refusalsLastHour: live?.refusalsLastHour ?? 0 });
    return row;
  });
}

async function readUsage(admin: string): Promise<Map<string, TokenUsageInfo>> {
  let url: URL;
  try {
    url = new URL(TOKENS_USAGE_PATH, admin);
  } catch {
    throw new TokenCommandError(`--admin: "${admin}" is not a URL`);
  }
  let body: TokenUsageResponse;
  try {
    body = JSON.parse(await getText(url)) as TokenUsageResponse;
  } catch (err) {
    throw new Error(`cannot read ${url}: ${(err as Error).message}`);
  }
  return new Map((Array.isArray(body?.tokens) ? body.tokens : []).map((usage) => [usage.id, usage]));
}

function formatTable(records: TokenUsageRow[]): string {
  if (records.length === 0) return 'no tokens\n';
  const live = (value: number | undefined, show: (n: number) => string = String) => (value === undefined ? '-' : show(value));
  const rows = [
    ['NAME', 'ID', 'MAX TUNNELS', 'MAX TCP PORTS', 'MAX IDENTITIES', 'IDENTITIES', 'ONLINE', 'BYTES 1H', 'REFUSALS 1H', 'CREATED'],
    ...records.map((r) => [
      r.name,
      r.id,
      r.maxTunnels?.toString() ?? 'default',
      r.maxTcpPorts?.toString() ?? 'default',
      r.maxIdentities?.toString() ?? 'default',
      String(r.identities),
      live(r.tunnelsOnline),
      live(r.bytesLastHour, formatBytes),
      live(r.refusalsLastHour),
      r.createdAt,
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n') + '\n';
}
