// Command-line flags of `npm run bench -- [flags]`.
import { PROFILE_WORKLOADS, type ProfileWorkload } from './profile-run';

export interface BenchArgs {
  directOnly: boolean; // measure only the origin, without relay and agent
  strict: boolean; // exit 1 unless every threshold is met
  durationSec: number; // per figure
  help: boolean;
  /** `--inspect`: the agent runs with the request inspector on (every request captured). */
  inspect: boolean;
  /** `--inspector [ROUNDS]`: c50 and download with the inspector off and on, alternately (default 3 rounds). */
  inspectorRounds?: number;
  /** `--connections [W,K]`: the live-connections benchmark instead (W WebSockets, K idle keep-alive). */
  connections?: { webSockets: number; keepAlive: number };
  /** `--soak [N]`: 70,000 new connections, then N keep-alive requests, RSS and descriptors along the way. */
  soak?: { keepAliveRequests: number; newConnections: number };
  /** `--cluster`: only the cluster row (direct, via the owner relay, via a non-owner relay). */
  cluster: boolean;
  /** `--no-extras`: direct, tunnel and the two pipes only (no nginx, no cluster rows): a quicker run while tuning. */
  noExtras: boolean;
  /** `--profile DIR`: the tunnel's relay and agent run under `node --cpu-prof`, profiles under DIR. */
  profileDir?: string;
  /** `--runs N`: the full sequence N times (1-9), then issue 17's figures of each run and their medians. */
  runs: number;
  /** `--workload NAME`: only that workload through the tunnel (with --profile: profiled, and its profile summary). */
  workload?: ProfileWorkload;
}

export const USAGE = `usage: npm run bench -- [--direct-only] [--strict] [--duration SECONDS] [--no-extras] [--runs N] [--profile DIR] [--workload NAME] | --connections [W,K] | --soak [N] | --cluster | --inspector [ROUNDS]
  --connections [W,K] hold W WebSockets and K idle keep-alive connections through one tunnel at
                      once (default 10000,5000): acceptance, echo p99, RSS per 1,000 connections
  --soak [N]          70000 new connections, then N keep-alive requests (default 1000000) through
                      one tunnel: no errors, relay/agent RSS and descriptors not growing
  --cluster           only the cluster row: small requests direct, via the relay holding the
                      tunnel and via another relay of the cluster (needs redis-server)
  --inspector [ROUNDS] what the request inspector costs: ROUNDS rounds (default 3) of the tunnel
                      started with the inspector off and on, alternately; c50 req/s and 100 MiB
                      download MB/s of each, medians (--duration applies); then the
                      tap and capture's cost per request in one process (capture-cost.ts)
  --no-extras         skip the rows behind nginx and through a cluster (a quicker run while tuning)
  --runs N            the whole sequence N times (1-9); adds each run's tunnel / pipes figures and
                      their medians, the form issue 17's targets are judged in
  --profile DIR       relay and agent of the tunnel run under node --cpu-prof and write their CPU
                      profiles under DIR/relay and DIR/agent as they stop
  --workload NAME     only this workload through the tunnel (${PROFILE_WORKLOADS.join(', ')}): req/s or MB/s
                      and relay + agent CPU per request or per 100 MiB (a quick A/B while tuning);
                      with --profile, unwarmed and profiled, and the top 20 functions by self time
                      of each in DIR/NAME.md
  --direct-only       measure the origin directly only (no relay/agent needed)
  --inspect           run the agent with the request inspector on (portway start --inspect)
  --strict            exit 1 unless every threshold is met (default: exit 0 whatever the figures)
  --duration SECONDS  length of each wrk run, 1-30 (default 8)
environment: PORTWAY_BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" (or --trace-gc…)
                      extra node options for the agent process only`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { runs: 1, noExtras: false, directOnly: false, strict: false, durationSec: 8, help: false, cluster: false, inspect: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--direct-only') args.directOnly = true;
    else if (arg === '--strict') args.strict = true;
    else if (arg === '--cluster') args.cluster = true;
    else if (arg === '--no-extras') args.noExtras = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--inspect') args.inspect = true;
    else if (arg === '--connections') {
      const counts = /^\d+,\d+$/.test(argv[i + 1] ?? '') ? argv[++i].split(',').map(Number) : [10_000, 5_000];
      args.connections = { webSockets: counts[0], keepAlive: counts[1] };
    }
    else if (arg === '--inspector') args.inspectorRounds = /^\d+$/.test(argv[i + 1] ?? '') ? Math.max(1, Number(argv[++i])) : 3;
    else if (arg === '--soak') {
      const count = /^\d+$/.test(argv[i + 1] ?? '') ? Number(argv[++i]) : 1_000_000;
      args.soak = { keepAliveRequests: count, newConnections: 70_000 };
    }
    else if (arg === '--profile') {
      const dir = argv[++i];
      if (!dir || dir.startsWith('--')) throw new Error(`--profile wants a directory\n${USAGE}`);
      args.profileDir = dir;
    } else if (arg === '--workload') {
      const name = argv[++i];
      if (!(PROFILE_WORKLOADS as readonly string[]).includes(name)) throw new Error(`--workload wants one of ${PROFILE_WORKLOADS.join(', ')}, got ${name}`);
      args.workload = name as ProfileWorkload;
    } else if (arg === '--runs') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1 || value > 9) throw new Error(`--runs wants a whole number from 1 to 9, got ${argv[i]}`);
      args.runs = value;
    } else if (arg === '--duration') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1 || value > 30) throw new Error(`--duration wants a whole number of seconds from 1 to 30, got ${argv[i]}`);
      args.durationSec = value;
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return args;
}
