// `npm run bench`: the same origin measured directly, through relay + agent, and directly again,
// all on loopback, then a Markdown table of ratios (also written to bench/results/latest.md).
// Progress goes to stderr; the report to stdout.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, USAGE } from './args';
import { Child, spawnNode, stopAll } from './children';
import { ClusterHop, clusterHopMarkdown, measureClusterHop, redisMissing } from './cluster-hop';
import { runConnectionsBench } from './connections';
import { runSoakBench } from './connections-soak';
import { downloaderName } from './download';
import { runInspectorCompare } from './inspector-compare';
import { BehindNginx, measureBehindNginx, nginxMissing } from './nginx-front';
import { PipeReference, measurePipeReference } from './pipe-reference';
import { runProfile } from './profile-run';
import { describeEnvironment } from './environment';
import { backgroundCores } from './process-stats';
import { PhaseResult, PhaseTargets, measurePhase } from './measure';
import { Report, ReportInput, buildReport } from './report';
import { RunFigures, runFigures, runsSummaryMarkdown } from './runs-summary';
import { Tunnel, startTunnel, tunnelMissing } from './tunnel';
import { prepareWrk, requireWrk, runWrk } from './wrk';

/** Background load above this (cores) gets a warning in the report. */
const BACKGROUND_WARN_CORES = 0.2;
const root = path.resolve(__dirname, '..', '..');
const log = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

async function startOrigin(name: string): Promise<{ child: Child; port: number }> {
  const child = spawnNode(name, path.join(__dirname, 'origin.js'), [], process.env);
  const match = await child.waitFor(/origin listening on 127\.0\.0\.1:(\d+)/, 10_000);
  return { child, port: Number(match[1]) };
}

/** Says which of relay/agent died, with its last output, when a tunnel figure fails. */
function describeTunnelFailure(err: unknown, tunnel: Tunnel | undefined): string {
  const parts = [err instanceof Error ? err.message : String(err)];
  for (const child of tunnel ? [tunnel.relay, tunnel.agent] : []) {
    const { exitCode, signalCode } = child.proc;
    if (exitCode !== null || signalCode !== null) {
      parts.push(`${child.name} exited (${signalCode ?? exitCode}); its last output:\n${child.tail()}`);
    }
  }
  return parts.join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.connections) {
    const counts = args.connections;
    return separateReport('connections.md', (tmpDir) => runConnectionsBench({ root, tmpDir, args: counts, log }));
  }
  if (args.inspectorRounds) {
    const compare = { rounds: args.inspectorRounds, durationSec: args.durationSec };
    return separateReport('inspector.md', (tmpDir) => runInspectorCompare({ root, tmpDir, args: compare, log }));
  }
  if (args.soak) {
    const counts = args.soak;
    return separateReport('soak.md', (tmpDir) => runSoakBench({ root, tmpDir, args: counts, log }));
  }
  requireWrk();
  if (args.workload) {
    const { profileDir, workload, durationSec } = args;
    if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
    return separateReport('workload.md', (tmpDir) => {
      prepareWrk(tmpDir);
      return runProfile({ root, tmpDir, profileDir, workload, durationSec, startOrigin, log });
    });
  }
  if (args.cluster) return separateReport('cluster.md', (tmpDir) => clusterOnly(tmpDir, args.durationSec));
  const started = Date.now();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-bench-'));
  const cleanup = async (): Promise<void> => {
    await stopAll();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping child processes`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    prepareWrk(tmpDir);
    const idleBefore = await backgroundCores();
    log(`background load before start: ${idleBefore.toFixed(2)} cores busy`);
    const [origin1, origin2] = await Promise.all([startOrigin('origin-1'), startOrigin('origin-2')]);
    const direct: PhaseTargets = { small: { port: origin1.port }, big: { port: origin2.port }, download: { port: origin1.port } };
    const directPhase = (name: string): Promise<PhaseResult> =>
      measurePhase({ name, targets: direct, watched: { origin: origin1.child.pid }, originPort: origin1.port, durationSec: args.durationSec, log });

    /** One full sequence: direct, tunnel, pipes (and the extras), direct again; its report. */
    const measureOnce = async (): Promise<{ report: Report; input: ReportInput }> => {
      const before = await directPhase('direct (before)');

      let tunnelResult: PhaseResult | undefined;
      let tunnelNote: string | undefined = args.directOnly ? '--direct-only' : tunnelMissing(root);
      if (!tunnelNote) {
        let tunnel: Tunnel | undefined;
        try {
          log('tunnel: starting relay and agent');
          tunnel = await startTunnel({ root, tmpDir, origin1Port: origin1.port, origin2Port: origin2.port, agentArgs: args.inspect ? ['--inspect', '127.0.0.1:0'] : [], profileDir: args.profileDir && path.resolve(args.profileDir, 'tunnel') });
          log(`tunnel: relay on 127.0.0.1:${tunnel.relayPort}, hostname ${tunnel.hostname}`);
          const targets: PhaseTargets = {
            small: { port: tunnel.relayPort, host: tunnel.hostname },
            big: { port: tunnel.relayPort, host: tunnel.bigHostname },
            download: { port: tunnel.relayPort, host: tunnel.hostname },
          };
          const watched = { origin: origin1.child.pid, relay: tunnel.relay.pid, agent: tunnel.agent.pid };
          tunnelResult = await measurePhase({ name: 'tunnel', targets, watched, originPort: origin1.port, durationSec: args.durationSec, log });
        } catch (err) {
          tunnelNote = describeTunnelFailure(err, tunnel);
          log(`tunnel FAILED: ${tunnelNote}`);
        } finally {
          await tunnel?.stop(); // idle relay/agent must not share the CPU with the second direct phase
        }
      } else {
        log(`tunnel skipped: ${tunnelNote}`);
      }

      let pipes: PipeReference | undefined;
      if (!args.directOnly) {
        try {
          pipes = await measurePipeReference({ originPort: origin1.port, durationSec: args.durationSec, log });
        } catch (err) {
          log(`two Node pipes FAILED (reference only, the report goes on without it): ${err instanceof Error ? err.message : String(err)}`);
        }
      }

      let behindNginx: BehindNginx | undefined;
      let behindNginxNote: string | undefined = args.directOnly || tunnelNote ? undefined : args.noExtras ? '--no-extras' : nginxMissing();
      if (!args.directOnly && !tunnelNote && !behindNginxNote) {
        try {
          behindNginx = await measureBehindNginx({ root, tmpDir, origin1Port: origin1.port, origin2Port: origin2.port, durationSec: args.durationSec, log });
        } catch (err) {
          behindNginxNote = `failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
          log(`behind nginx FAILED: ${err instanceof Error ? err.message : String(err)}`);
        }
      }

      let clusterHop: ClusterHop | undefined;
      let clusterNote: string | undefined = args.directOnly || tunnelNote ? 'the tunnel was not measured' : args.noExtras ? '--no-extras' : redisMissing();
      if (!clusterNote) {
        try {
          clusterHop = await measureClusterHop({ root, tmpDir, origin1Port: origin1.port, origin2Port: origin2.port, durationSec: args.durationSec, log });
        } catch (err) {
          clusterNote = `failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
          log(`cluster FAILED: ${err instanceof Error ? err.message : String(err)}`);
        }
      }

      const after = await directPhase('direct (after)');
      const idleAfter = await backgroundCores();

      const busy = Math.max(idleBefore, idleAfter);
      const header = [
        ...describeEnvironment(root),
        `background load (machine busy while the benchmark idles, 1 s): ${idleBefore.toFixed(2)} cores before, ${idleAfter.toFixed(2)} after`,
        `${args.durationSec} s per wrk figure; download = median of repeated 100 MiB transfers with ${downloaderName()}; whole run ${Math.round((Date.now() - started) / 1000)} s${args.runs > 1 ? ` (all runs so far)` : ''}`,
      ];
      const warnings = busy > BACKGROUND_WARN_CORES ? [`other work kept ${busy.toFixed(2)} cores busy while the benchmark idled: the machine was shared, so every figure is noisier than usual`] : [];
      const input: ReportInput = { before, after, tunnel: tunnelResult, pipes, behindNginx, behindNginxNote, tunnelNote: tunnelNote?.split('\n')[0], header, warnings };
      const report = buildReport(input);
      const directSmall = { 1: (before.levels[1].wrk.reqPerSec + after.levels[1].wrk.reqPerSec) / 2, 50: (before.levels[50].wrk.reqPerSec + after.levels[50].wrk.reqPerSec) / 2 };
      report.markdown += clusterHopMarkdown(clusterHop, clusterNote, directSmall);
      return { report, input };
    };

    const runs: RunFigures[] = [];
    let report: Report | undefined;
    let tunnelMeasured = true;
    for (let run = 1; run <= args.runs; run++) {
      if (args.runs > 1) log(`run ${run} of ${args.runs}`);
      const once = await measureOnce();
      report = once.report;
      tunnelMeasured &&= once.input.tunnel !== undefined;
      const figures = runFigures(once.input);
      if (figures) runs.push(figures);
    }
    if (args.runs > 1) report!.markdown += runsSummaryMarkdown(runs);
    const resultsDir = path.join(root, 'bench', 'results');
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, 'latest.md'), report!.markdown);
    process.stdout.write(report!.markdown);
    log('report written to bench/results/latest.md');

    if (!args.directOnly && !tunnelMeasured) return 1; // the tunnel was meant to be measured and was not
    if (args.strict && report!.met < report!.total) return 1;
    return 0;
  } finally {
    await cleanup();
  }
}

/** `--cluster`: direct small requests, then the cluster row against them. */
async function clusterOnly(tmpDir: string, durationSec: number): Promise<{ markdown: string; ok: boolean }> {
  const missing = redisMissing() ?? tunnelMissing(root);
  if (missing) return { markdown: clusterHopMarkdown(undefined, missing, {}), ok: false };
  prepareWrk(tmpDir);
  const [origin1, origin2] = await Promise.all([startOrigin('origin-1'), startOrigin('origin-2')]);
  const direct: Record<number, number> = {};
  for (const c of [1, 50]) direct[c] = (await runWrk({ url: `http://127.0.0.1:${origin1.port}/small`, connections: c, durationSec })).reqPerSec;
  const hop = await measureClusterHop({ root, tmpDir, origin1Port: origin1.port, origin2Port: origin2.port, durationSec, log });
  return { markdown: `# Portway cluster bench\n\ndirect small requests: c1 ${direct[1].toFixed(0)} req/s, c50 ${direct[50].toFixed(0)} req/s\n${clusterHopMarkdown(hop, undefined, direct)}`, ok: true };
}

/** `--connections`, `--soak`: one set of figures alone, written to bench/results/<file>. */
async function separateReport(file: string, run: (tmpDir: string) => Promise<{ markdown: string; ok: boolean }>): Promise<number> {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-bench-'));
  try {
    const { markdown, ok } = await run(tmpDir);
    const resultsDir = path.join(root, 'bench', 'results');
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, file), markdown);
    process.stdout.write(markdown);
    return ok ? 0 : 1;
  } finally {
    await stopAll();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
