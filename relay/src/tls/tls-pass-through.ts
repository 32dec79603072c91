import type { Socket } from 'node:net';
import { splice } from '../../../common/splice';
import { encodeHead, type TlsOpen } from '../../../protocol/stream-head';
import type { AgentSession } from '../agent-session';

/**
 * Hands a TLS connection to the agent untouched: a `tls` stream whose head names the SNI and the
 * client, then the ClientHello bytes already read, then raw bytes both ways. The relay holds no
 * key for the route and never sees plaintext.
 */
export function passTlsThrough(socket: Socket, clientHello: Buffer, session: AgentSession, open: TlsOpen, idleTimeoutMs?: number): void {
  const stream = session.openStream(open.remoteAddress);
  stream.write(encodeHead(open));
  stream.write(clientHello);
  // Resumes the socket, paused right after the ClientHello; after a half-close the rest ends within the idle timeout.
  splice(socket, stream, undefined, { halfClosedIdleMs: idleTimeoutMs });
}
