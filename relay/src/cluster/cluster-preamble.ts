/**
 * The first line of every connection between relays, before the visitor's HTTP bytes: proof of
 * the cluster secret, and the real client address (resolved by the relay the visitor reached,
 * after its trusted proxies) for the owner's firewall.
 *
 *   PORTWAY-CLUSTER/1 <proof> <client address> <client port>\r\n   one visitor (a WebSocket, an upgrade)
 *   PORTWAY-CLUSTER/1 <proof> pooled 0\r\n                          a kept-alive connection many visitors'
 *                                                                    requests share, one at a time; each names
 *                                                                    its client in CLUSTER_CLIENT_HEADER
 *
 * The proof is an HMAC of a fixed label under the cluster secret: the secret itself never crosses
 * the wire. It does not stop a replay by someone who can read the cluster network, which must be
 * private (as Redis is).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

const MAGIC = 'PORTWAY-CLUSTER/1';
/** A longer first line is refused before it is parsed. */
export const MAX_PREAMBLE_BYTES = 256;

export interface PreambleClient {
  address: string;
  port: number;
}

/** A pooled connection: the client is named per request. */
export interface PooledPreamble {
  pooled: true;
}

/** On a pooled connection, the address of the visitor a request comes from (set by the sending relay only). */
export const CLUSTER_CLIENT_HEADER = 'x-portway-cluster-client';
const POOLED = 'pooled';

export function clusterProof(secret: string): Buffer {
  return createHmac('sha256', secret).update(MAGIC).digest();
}

export function encodePreamble(proof: Buffer, client: PreambleClient): string {
  return `${MAGIC} ${proof.toString('base64url')} ${client.address} ${client.port}\r\n`;
}

export function encodePooledPreamble(proof: Buffer): string {
  return `${MAGIC} ${proof.toString('base64url')} ${POOLED} 0\r\n`;
}

/** The client named by a preamble line (without its line end), or an error message. */
export function parsePreamble(line: string, proof: Buffer): PreambleClient | PooledPreamble | { error: string } {
  const [magic, presented, address, port, ...extra] = line.split(' ');
  if (magic !== MAGIC || extra.length > 0 || port === undefined) return { error: 'not a cluster preamble' };
  const given = Buffer.from(presented, 'base64url');
  if (given.length !== proof.length || !timingSafeEqual(given, proof)) return { error: 'wrong cluster secret' };
  if (address === POOLED && port === '0') return { pooled: true };
  if (isIP(address) === 0 || !/^\d{1,5}$/.test(port) || Number(port) > 65535) return { error: 'bad client address' };
  return { address, port: Number(port) };
}
