/** TLS clients for tests: verified HTTPS requests by SNI, and raw handshakes that may be refused. */
import { X509Certificate } from 'node:crypto';
import * as https from 'node:https';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { certificateCoversDomain, dnsAltNames } from '../../agent/src/tls/cert-pair';

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Serial number of the certificate the server presented. */
  serial: string;
}

/**
 * Checks the name like a browser (RFC 6125), also for single-label parents such as *.localhost,
 * which Node's own check refuses; the chain is still verified against `ca` by Node.
 */
export function checkNameLikeABrowser(servername: string, cert: tls.PeerCertificate): Error | undefined {
  const names = dnsAltNames(cert.subjectaltname);
  return certificateCoversDomain(names, servername) ? undefined : new Error(`certificate for ${names.join(', ')} does not cover ${servername}`);
}

/** An HTTPS request to 127.0.0.1:port presenting `servername`, verified against `ca` only. */
export function httpsRequest(
  port: number,
  servername: string,
  ca: string,
  options: { path?: string; method?: string; headers?: Record<string, string>; body?: string; localAddress?: string; socket?: Duplex } = {},
): Promise<HttpsAnswer> {
  const { socket } = options;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        servername,
        ca,
        // createConnection is only used without an agent (undefined, not false).
        agent: socket ? undefined : false,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers: { host: servername, ...options.headers },
        localAddress: options.localAddress,
        checkServerIdentity: checkNameLikeABrowser,
        // Over a given transport (e.g. one byte per TCP segment) instead of a fresh connection.
        ...(socket ? { createConnection: () => tls.connect({ socket, servername, ca, checkServerIdentity: checkNameLikeABrowser }) } : {}),
      },
      (res) => {
        const serial = (res.socket as tls.TLSSocket).getPeerCertificate().serialNumber;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, serial }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** How a handshake attempt ended: 'secure' (with the server's certificate) or 'closed' before that. */
export function tryHandshake(
  port: number,
  options: { servername?: string; localAddress?: string; socket?: Duplex } = {},
): Promise<{ outcome: 'secure'; cert: X509Certificate } | { outcome: 'closed'; error: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: options.servername,
      rejectUnauthorized: false,
      socket: options.socket,
      // Passed on to net.connect (missing from tls.ConnectionOptions' type).
      ...({ localAddress: options.localAddress } as object),
    });
    socket.once('secureConnect', () => {
      const raw = socket.getPeerX509Certificate();
      socket.destroy();
      if (raw) resolve({ outcome: 'secure', cert: raw });
      else resolve({ outcome: 'closed', error: 'no certificate' });
    });
    socket.once('error', (err) => resolve({ outcome: 'closed', error: err.message }));
    socket.once('close', () => resolve({ outcome: 'closed', error: 'closed' }));
  });
}

/**
 * A TCP connection that sends every byte written to it in its own write (Nagle off), each one
 * only after the previous one was handed to the kernel: a ClientHello split into 1-byte segments.
 */
export function oneBytePerWrite(port: number): Promise<{ socket: Duplex; writes: () => number }> {
  return new Promise((resolve, reject) => {
    const tcp = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let writes = 0;
    const splitter = new Duplex({
      read() {
        tcp.resume();
      },
      write(chunk: Buffer, _encoding, callback) {
        let i = 0;
        const next = (err?: Error | null): void => {
          if (err) return callback(err);
          if (i >= chunk.length) return callback();
          writes++;
          tcp.write(chunk.subarray(i, ++i), next);
        };
        next();
      },
      final(callback) {
        tcp.end();
        callback();
      },
      destroy(err, callback) {
        tcp.destroy();
        callback(err);
      },
    });
    tcp.on('data', (data: Buffer) => {
      if (!splitter.push(data)) tcp.pause();
    });
    tcp.on('end', () => splitter.push(null));
    tcp.on('error', (err) => splitter.destroy(err));
    tcp.on('close', () => splitter.destroy());
    tcp.once('connect', () => resolve({ socket: splitter, writes: () => writes }));
    tcp.once('error', reject);
  });
}
