import * as net from 'node:net';
import { splice } from '../../../common/splice';
import type { Duplex } from 'node:stream';
import { formatHostPort } from '../../../common/net/host-port';

/**
 * Pipes a TLS stream from the relay, ClientHello first, to the destination's own TLS port
 * (`route http add --destination IP --tls PORT`); the destination terminates it.
 */
export function passTlsToDestination(stream: Duplex, destination: string, port: number, log: (line: string) => void): void {
  const socket = net.connect({ host: destination, port, allowHalfOpen: true, noDelay: true });
  splice(socket, stream, (err) => log(`TLS pass-through to ${formatHostPort(destination, port)} failed: ${err.message}`));
}
