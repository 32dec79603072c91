import * as fs from 'node:fs';
import { OptionsError, parseRelayOptions, SERVE_HELP } from './options';
import { RelayServer } from './relay-server';
import { startHttpsFront } from './tls/https-front';

async function main(argv: string[]): Promise<void> {
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
    const { address: secure, terminatesOwnNames } = httpsFront;
    const secureHost = secure.family === 'IPv6' ? `[${secure.address}]` : secure.address;
    const own = terminatesOwnNames ? 'own names with --tls-cert' : 'no certificate for its own names';
    console.log(`portway-relay listening on https://${secureHost}:${secure.port} (SNI pass-through for routes with TLS at the agent; ${own})`);
  }
  if (!options.authKey) console.log('warning: no AUTH_KEY set; any agent may connect (open relay)');
  const stop = () => {
    Promise.all([relay.close(), httpsFront?.listener.close()]).finally(() => process.exit(0));
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
