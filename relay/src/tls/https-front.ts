import type { AddressInfo } from 'node:net';
import { HostRouter } from '../host-router';
import type { RelayOptions } from '../options';
import type { RelayServer } from '../relay-server';
import { HttpsListener } from './https-listener';
import { OwnCertificate } from './own-certificate';

/** Starts the HTTPS port when --https-port is set; undefined otherwise. */
export async function startHttpsFront(
  relay: RelayServer,
  options: RelayOptions,
  log: (line: string) => void,
): Promise<{ listener: HttpsListener; address: AddressInfo; terminatesOwnNames: boolean } | undefined> {
  const { https } = options;
  if (https.port === undefined) return undefined;
  const ownCertificate = https.certFile && https.keyFile ? new OwnCertificate(https.certFile, https.keyFile) : undefined;
  const listener = new HttpsListener({
    host: options.host,
    port: https.port,
    routing: {
      domain: options.domain,
      router: new HostRouter(options.domain),
      sessionFor: (hostname) => relay.registry.get(hostname),
      sessions: () => relay.registry.all(),
      isKnownHostname: (hostname) => relay.isKnownHostname(hostname),
    },
    ownCertificate,
    serveDecrypted: (socket) => relay.serveDecryptedConnection(socket),
    log,
  });
  const address = await listener.listen();
  return { listener, address, terminatesOwnNames: ownCertificate !== undefined };
}
