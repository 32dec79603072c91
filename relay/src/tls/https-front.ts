import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { OwnChallengeAnswers } from '../../../common/acme/challenge-store';
import { HostRouter } from '../host-router';
import type { RelayOptions } from '../options';
import type { TunnelRegistry } from '../tunnel-registry';
import { HttpsListener } from './https-listener';
import { GivenCertificate, OwnCertificate } from './own-certificate';
import { RelayAcme } from './relay-acme';

export interface HttpsFront {
  listener: HttpsListener;
  address: AddressInfo;
  /** How the relay's own names get TLS, for the start-up line. */
  ownNames: string;
  /** ACME for the relay's own names (--acme); undefined when off. */
  acme?: RelayAcme;
  close(): Promise<void>;
}

/**
 * What the HTTPS port needs of the relay it fronts, passed in (the relay server implements it):
 * this module must not import the composition root that starts it.
 */
export interface FrontedRelay {
  readonly registry: TunnelRegistry;
  /** Whether an agent identity holds this hostname, online or not. */
  isKnownHostname(hostname: string): boolean;
  /** The tunnel hostname of a verified custom domain (or a name under one), if any. */
  customDomainTunnel(host: string): string | undefined;
  /** Serves a connection whose TLS this port terminated, as the HTTP port would (`forwardedFor`: the visitor another relay forwarded). */
  serveDecryptedConnection(socket: Duplex, forwardedFor?: { address: string }): void;
  /** Set here with --acme: the HTTP port answers the CA's challenges for the relay's own names. */
  ownChallenges: OwnChallengeAnswers | undefined;
}

/** Starts the HTTPS port when --https-port is set; undefined otherwise. */
export async function startHttpsFront(relay: FrontedRelay, options: RelayOptions, log: (line: string) => void): Promise<HttpsFront | undefined> {
  const { https } = options;
  if (https.port === undefined) return undefined;
  const given = https.certFile && https.keyFile ? new GivenCertificate(https.certFile, https.keyFile) : undefined;
  const acme = https.acme
    ? new RelayAcme({
        ...https.acme,
        dataDir: options.dataDir,
        domain: options.domain,
        coveredByGiven: (name) => given?.covers(name) ?? false,
        isOwnName: (name) => name === options.domain || relay.isKnownHostname(name),
        log,
      })
    : undefined;
  const listener = new HttpsListener({
    host: options.host,
    port: https.port,
    routing: {
      domain: options.domain,
      router: new HostRouter(options.domain, (host) => relay.customDomainTunnel(host)),
      sessionFor: (hostname) => relay.registry.get(hostname),
      sessions: () => relay.registry.all(),
      isKnownHostname: (hostname) => relay.isKnownHostname(hostname),
    },
    ownCertificate: given || acme ? new OwnCertificate(given, acme) : undefined,
    serveDecrypted: (socket, forwardedFor) => relay.serveDecryptedConnection(socket, forwardedFor),
    log,
    idleTimeoutMs: options.security.limits.idleTimeoutMs,
  });
  const address = await listener.listen();
  if (acme) {
    // Challenges first: the HTTP port answers the CA from now on, before anything else routes.
    relay.ownChallenges = acme;
    relay.registry.on('online', (session: { hostname: string }) => acme.hostnameOnline(session.hostname));
    acme.start();
    for (const session of relay.registry.all()) acme.hostnameOnline(session.hostname);
  }
  const modes = [given && '--tls-cert', acme && `ACME from ${https.acme!.directoryUrl}`].filter(Boolean);
  return {
    listener,
    address,
    acme,
    ownNames: modes.length > 0 ? `own names with ${modes.join(', then ')}` : 'no certificate for its own names',
    async close() {
      acme?.stop();
      await listener.close();
    },
  };
}
