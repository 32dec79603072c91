/**
 * A real VS Code workbench for tests: code-server 4.100.3 (VS Code 1.100.3 with a Node extension
 * host) on loopback, driven by playwright-core with Debian's chromium. code-server is installed
 * (and cached) by scripts/install-code-server.sh, which this runs when it is missing.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The repository root (this file runs from out/test/extension/harness/). */
export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
/** Outside the checkout, so fresh clones (CI) on the same machine reuse the install. */
export const CACHE_DIR = process.env.PORTWAY_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'portway');
export const CODE_SERVER_ENTRY = path.join(CACHE_DIR, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

/** Installs code-server and chromium when missing (idempotent, cached). */
export function ensureCodeServer(): void {
  if (fs.existsSync(CODE_SERVER_ENTRY) && fs.existsSync(CHROMIUM)) return;
  execFileSync('bash', [path.join(ROOT, 'scripts', 'install-code-server.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
}

export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface CodeServer {
  port: number;
  url: string;
  /** code-server runs in its own process group (setsid); its pgid is its pid. */
  pgid: number;
  workspace: string;
  home: string;
  lines: string[];
  stop(): Promise<void>;
}

function waitForLine(child: ChildProcess, lines: string[], pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      for (const line of lines) {
        const m = line.match(pattern);
        if (m) return done(() => resolve(m));
      }
    };
    const onData = () => check();
    const onExit = (code: number | null) => done(() => reject(new Error(`code-server exited (${code}):\n${lines.join('\n')}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`code-server did not start in ${timeoutMs} ms:\n${lines.join('\n')}`))), timeoutMs);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      fn();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
    check();
  });
}

/**
 * Installs a packaged extension (.vsix) into `extensionsDir` the way a user would, with
 * code-server's own `--install-extension` (scratch HOME and user data; nothing is started).
 * Resolves with code-server's output once it reports success.
 */
export async function installExtension(vsix: string, extensionsDir: string): Promise<string> {
  ensureCodeServer();
  const root = scratchDir('portway-vsix-install-');
  const home = path.join(root, 'home');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [CODE_SERVER_ENTRY, '--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', path.join(root, 'user-data'), '--disable-telemetry'],
        { env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share'), XDG_CACHE_HOME: path.join(home, '.cache'), EXTENSIONS_GALLERY: '{}' }, timeout: 60_000 },
        (err, stdout, stderr) => {
          const text = `${stdout}${stderr}`;
          if (err) reject(new Error(`code-server --install-extension failed: ${err.message}\n${text}`));
          else resolve(text);
        },
      );
    });
    if (!/successfully installed/i.test(output)) throw new Error(`code-server --install-extension did not report success:\n${output}`);
    return output;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Starts code-server on 127.0.0.1 (a free port) with scratch HOME, user data and extensions dirs
 * (or the given `extensionsDir`, e.g. one a .vsix was installed into; the caller owns it).
 */
export async function startCodeServer(options: { workspace?: string; extensionsDir?: string; userSettings?: Record<string, unknown>; env?: Record<string, string> } = {}): Promise<CodeServer> {
  ensureCodeServer();
  const root = scratchDir('portway-code-server-');
  const home = path.join(root, 'home');
  const userData = path.join(root, 'user-data');
  const extensions = options.extensionsDir ?? path.join(root, 'extensions');
  const workspace = options.workspace ?? path.join(root, 'workspace');
  for (const dir of [home, userData, extensions, workspace, path.join(userData, 'User')]) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'security.workspace.trust.enabled': false,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'window.commandCenter': false,
        ...options.userSettings,
      },
      null,
      2,
    ),
  );
  const config = path.join(root, 'config.yaml');
  fs.writeFileSync(config, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  const child = spawn(
    process.execPath,
    [
      CODE_SERVER_ENTRY,
      '--config', config,
      '--user-data-dir', userData,
      '--extensions-dir', extensions,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      workspace,
    ],
    {
      detached: true, // its own process group, so stop() takes its watchers and extension host with it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, '.config'),
        XDG_DATA_HOME: path.join(home, '.local', 'share'),
        XDG_CACHE_HOME: path.join(home, '.cache'),
        EXTENSIONS_GALLERY: '{}',
        ...options.env,
      },
    },
  );
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(line);
    if (process.env.PORTWAY_TEST_VERBOSE) process.stderr.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const m = await waitForLine(child, lines, /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/, 60_000);
  const port = Number(m[1]);
  const pgid = child.pid!;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pgid,
    workspace,
    home,
    lines,
    async stop() {
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-pgid, signal);
        } catch {
          /* already gone */
        }
      };
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      killGroup('SIGKILL'); // stragglers of the group (file watchers, the agent)
      if (process.env.PORTWAY_TEST_KEEP) process.stderr.write(`kept code-server files in ${root}\n`);
      else fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Processes of a process group whose command line contains `needle` (e.g. the agent bundle). */
export function processesInGroup(pgid: number, needle: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

export interface Workbench {
  context: BrowserContext;
  page: Page;
  /** Extension-host console lines (through codeAutomationLog). */
  logs: string[];
  /** Resolves with the code the workbench reports through codeAutomationExit (extension tests). */
  exitCode: Promise<number>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Opens the workbench in chromium with the extension at `extensionPath` loaded as a development
 * extension (no packaging), and optionally a mocha suite as extension tests. Without
 * `extensionPath` only the installed extensions (see installExtension) run.
 */
export async function openWorkbench(server: CodeServer, options: { extensionPath?: string; extensionTestsPath?: string; artifactPrefix: string }): Promise<Workbench> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const old of fs.readdirSync(ARTIFACTS)) if (old.startsWith(`${options.artifactPrefix}-`)) fs.rmSync(path.join(ARTIFACTS, old), { force: true });
  const profile = scratchDir('portway-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const logs: string[] = [];
  let reportExit: (code: number) => void = () => undefined;
  const exitCode = new Promise<number>((resolve) => (reportExit = resolve));
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
    const line = `[${type}] ${(args ?? []).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`;
    logs.push(line);
    if (process.env.PORTWAY_TEST_VERBOSE) process.stderr.write(`${line}\n`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => reportExit(code));
  const remote = (p: string) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload: [string, string][] = [];
  if (options.extensionPath) payload.push(['extensionDevelopmentPath', remote(options.extensionPath)]);
  if (options.extensionTestsPath) payload.push(['extensionTestsPath', remote(options.extensionTestsPath)]);
  const query = payload.length ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : '';
  await page.goto(`${server.url}/?folder=${encodeURIComponent(server.workspace)}${query}`);
  let shot = 0;
  return {
    context,
    page,
    logs,
    exitCode,
    async screenshot(name: string) {
      const file = path.join(ARTIFACTS, `${options.artifactPrefix}-${String(++shot).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
