import * as fs from 'node:fs';
import { AdminServer } from './admin/admin-server';
import { addClusterMetrics } from './cluster/cluster-metrics';
import { RelayCluster } from './cluster/relay-cluster';
import { counters } from './admin/counters';
import { drainOnSignals } from './admin/graceful-drain';
import { relayMetrics } from './admin/relay-metrics';
import { listTunnels } from './admin/tunnel-list';
import { runTunnelsCli } from './admin/tunnels-cli';
import { lockDataDir } from './data-dir-lock';
import { createRelayLogger } from './logging/relay-logger';
import { OptionsError, parseRelayOptions, SERVE_HELP } from './options';
import { RelayServer } from './relay-server';
import { runTokenCli } from './security/token-cli';
import { startHttpsFront } from './tls/https-front';
import { RELAY_VERSION } from './version';

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'token') return void (process.exitCode = await runTokenCli(argv.slice(1)));
  if (argv[0] === 'tunnels') return void (process.exitCode = await runTunnelsCli(argv.slice(1), process.env));
  if (argv.includes('--version')) return void process.stdout.write(`${RELAY_VERSION}\n`);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const options = parseRelayOptions(argv, process.env);
  const logger = createRelayLogger(options.log);
  const log = logger.info;
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const unlockDataDir = lockDataDir(options.dataDir, logger.error);
  const cluster = options.cluster ? await RelayCluster.connect(options.cluster, log) : undefined;
  const relay = new RelayServer(options, log, cluster?.shared, options.log.level === 'debug' ? logger.debug : undefined);
  const address = await relay.listen();
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  log(`portway-relay listening on http://${shownHost}:${address.port} (domain ${options.domain}, data ${options.dataDir})`, { port: address.port });
  log(options.tcpPorts ? `TCP ports ${options.tcpPorts} (each listened on while its agent is connected)` : 'TCP ports off');
  if (cluster) {
    const at = await cluster.attach(relay);
    log(`cluster port listening on ${at.address}:${at.port} (relay ${cluster.relayId}, shared state in Redis)`, { clusterPort: at.port });
  }
  const httpsFront = await startHttpsFront(relay, options, log);
  if (httpsFront) cluster?.joinHttps(httpsFront.listener);
  if (httpsFront) {
    const { address: secure, ownNames } = httpsFront;
    const secureHost = secure.family === 'IPv6' ? `[${secure.address}]` : secure.address;
    log(`portway-relay listening on https://${secureHost}:${secure.port} (SNI pass-through for routes with TLS at the agent; ${ownNames})`, { httpsPort: secure.port });
  }
  let admin: AdminServer | undefined;
  if (options.admin.port !== undefined) {
    admin = new AdminServer({
      metrics: cluster ? addClusterMetrics(relayMetrics(counters, relay.registry)) : relayMetrics(counters, relay.registry),
      tunnels: () => listTunnels(relay.registry, (id) => relay.security.tokens?.list().find((t) => t.id === id)?.name),
      tokens: () => relay.security.admission.usageReport(),
    });
    const at = await admin.listen(options.admin.port, options.admin.host);
    const adminHost = at.family === 'IPv6' ? `[${at.address}]` : at.address;
    log(`admin listening on http://${adminHost}:${at.port} (/metrics, /tunnels)`, { adminPort: at.port });
  }
  if (relay.security.admission.isOpen) logger.warn('warning: no AUTH_KEY set and no tokens; any agent may connect (open relay)');
  drainOnSignals(
    {
      drain: () => {
        httpsFront?.listener.stopAccepting(); // the HTTP port refuses in relay.drain(), TCP ports too
        return relay.drain();
      },
      goAway: (timeoutMs) => relay.goAway(timeoutMs),
      close: () => Promise.all([relay.close(), httpsFront?.close(), admin?.close(), cluster?.close()]).then(() => unlockDataDir()),
    },
    options.admin.drainTimeoutMs,
    log,
  );
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof OptionsError) {
    console.error(`portway-relay: ${err.message}`);
    process.exit(2);
  }
  console.error(`portway-relay: ${err?.message ?? err}`);
  process.exit(1);
});
