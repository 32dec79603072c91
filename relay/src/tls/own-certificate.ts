import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';

/** A handshake not finished in this long is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

/** The pair given with --tls-cert/--tls-key, and the names it covers. */
export class GivenCertificate {
  readonly context: tls.SecureContext;
  /** DNS names of the leaf's subjectAltName, lower-case ("*.d" kept as is). */
  readonly dnsNames: string[];

  constructor(certFile: string, keyFile: string) {
    const read = (file: string, what: string) => {
      try {
        return fs.readFileSync(file);
      } catch (err) {
        throw new Error(`cannot read the relay's ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    const cert = read(certFile, 'certificate');
    try {
      this.context = tls.createSecureContext({ cert, key: read(keyFile, 'private key') });
      this.dnsNames = (new X509Certificate(cert).subjectAltName ?? '')
        .split(', ')
        .filter((entry) => entry.startsWith('DNS:'))
        .map((entry) => entry.slice(4).toLowerCase());
    } catch (err) {
      throw new Error(`--tls-cert ${certFile} / --tls-key ${keyFile}: ${(err as Error).message}`);
    }
  }

  /** Whether the leaf names `name` (exactly, or by a wildcard for one label, as browsers check). */
  covers(name: string): boolean {
    const host = name.toLowerCase();
    const dot = host.indexOf('.');
    return this.dnsNames.some((entry) => entry === host || (entry.startsWith('*.') && dot > 0 && entry.slice(2) === host.slice(dot + 1)));
  }
}

/** Certificates the relay obtained itself (tls/relay-acme.ts), looked up at each handshake. */
export interface ObtainedCertificates {
  contextFor(serverName: string): tls.SecureContext | undefined;
}

/**
 * TLS for the relay's own names (the apex, and tunnel hostnames whose routes do not do TLS
 * themselves). Per server name: the --tls-cert pair where it covers the name, else a certificate
 * obtained with ACME, else (no ACME) the given pair anyway; none of these = refused. Chosen at
 * each handshake, so a renewed certificate serves the next connection without a restart.
 */
export class OwnCertificate {
  constructor(
    private readonly given: GivenCertificate | undefined,
    private readonly obtained: ObtainedCertificates | undefined,
  ) {}

  /** The context to terminate `serverName` with right now, if any. */
  contextFor(serverName: string): tls.SecureContext | undefined {
    const { given, obtained } = this;
    if (given && (!obtained || given.covers(serverName))) return given.context;
    return obtained?.contextFor(serverName);
  }

  /** Whether the relay can terminate TLS for this name right now. */
  covers(serverName: string): boolean {
    return this.contextFor(serverName) !== undefined;
  }

  /**
   * Terminates TLS on a socket whose ClientHello was already read (it is put back first) and
   * returns the decrypted socket, to be served like a plain HTTP connection.
   */
  terminate(socket: Socket, clientHello: Buffer, serverName: string): tls.TLSSocket {
    const secureContext = this.contextFor(serverName);
    if (!secureContext) throw new Error(`no certificate for ${serverName}`);
    socket.unshift(clientHello);
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
    const timer = setTimeout(() => secure.destroy(), HANDSHAKE_TIMEOUT_MS);
    secure.once('secure', () => clearTimeout(timer));
    secure.once('close', () => clearTimeout(timer));
    secure.on('error', () => secure.destroy());
    return secure;
  }
}
