import * as fs from 'node:fs';
import { OptionsError, parseRelayOptions, SERVE_HELP } from './options';
import { RelayServer } from './relay-server';
import { runTokenCli } from './security/token-cli';
import { startHttpsFront } from './tls/https-front';
import { RELAY_VERSION } from './version';

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'token') return void (process.exitCode = await runTokenCli(argv.slice(1)));
  if (argv.includes('--version')) return void process.stdout.write(`${RELAY_VERSION}\n`);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const options = parseRelayOptions(argv, process.env);
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const relay = new RelayServer(options);
  const address = await relay.listen();
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  console.log(`portway-relay listening on http://${shownHost}:${address.port} (domain ${options.domain}, data ${options.dataDir})`);
  console.log(options.tcpPorts ? `TCP ports ${options.tcpPorts} (each listened on while its agent is connected)` : 'TCP ports off');
  const httpsFront = await startHttpsFront(relay, options, (line) => console.log(line));
  if (httpsFront) {
    const { address: secure, ownNames } = httpsFront;
    const secureHost = secure.family === 'IPv6' ? `[${secure.address}]` : secure.address;
    console.log(`portway-relay listening on https://${secureHost}:${secure.port} (SNI pass-through for routes with TLS at the agent; ${ownNames})`);
  }
  if (relay.security.admission.isOpen) console.log('warning: no AUTH_KEY set and no tokens; any agent may connect (open relay)');
  const stop = () => {
    // Exits even if closing fails: the signal asked to stop.
    void Promise.all([relay.close(), httpsFront?.close()]).finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof OptionsError) {
    console.error(`portway-relay: ${err.message}`);
    process.exit(2);
  }
  console.error(`portway-relay: ${err?.message ?? err}`);
  process.exit(1);
});
