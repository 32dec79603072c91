import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';

/** A handshake not finished in this long is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

/**
 * TLS for the relay's own names (the apex, and tunnel hostnames whose routes do not do TLS
 * themselves) with the certificate given by --tls-cert/--tls-key.
 */
export class OwnCertificate {
  private readonly context: tls.SecureContext;

  constructor(certFile: string, keyFile: string) {
    const read = (file: string, what: string) => {
      try {
        return fs.readFileSync(file);
      } catch (err) {
        throw new Error(`cannot read the relay's ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    try {
      this.context = tls.createSecureContext({ cert: read(certFile, 'certificate'), key: read(keyFile, 'private key') });
    } catch (err) {
      throw new Error(`--tls-cert ${certFile} / --tls-key ${keyFile}: ${(err as Error).message}`);
    }
  }

  /**
   * Terminates TLS on a socket whose ClientHello was already read (it is put back first) and
   * returns the decrypted socket, to be served like a plain HTTP connection.
   */
  terminate(socket: Socket, clientHello: Buffer): tls.TLSSocket {
    socket.unshift(clientHello);
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: this.context, ALPNProtocols: ['http/1.1'] });
    const timer = setTimeout(() => secure.destroy(), HANDSHAKE_TIMEOUT_MS);
    secure.once('secure', () => clearTimeout(timer));
    secure.once('close', () => clearTimeout(timer));
    secure.on('error', () => secure.destroy());
    return secure;
  }
}
