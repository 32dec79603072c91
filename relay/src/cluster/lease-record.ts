/**
 * The lease of a tunnel: which relay holds it and where the others reach that relay. Stored as
 * "relayId seq host:port" under REDIS_KEYS.lease(hostname); a claim is published on
 * REDIS_CHANNELS.leases as "hostname relayId seq" (written by lease-registry.ts's claim script). `seq` orders claims cluster-wide.
 */
export interface PeerAddress {
  host: string;
  port: number;
}

export interface Lease {
  relayId: string;
  seq: number;
  peer: PeerAddress;
}

export interface LeaseClaim {
  hostname: string;
  relayId: string;
  seq: number;
}

const RELAY_ID = /^[0-9a-f]{16}$/;

/** host:port, an IPv6 host in brackets. */
export function encodePeer(peer: PeerAddress): string {
  return `${peer.host.includes(':') ? `[${peer.host}]` : peer.host}:${peer.port}`;
}

export function encodeLease(lease: Lease): string {
  return `${lease.relayId} ${lease.seq} ${encodePeer(lease.peer)}`;
}

/** The lease in a Redis value, or undefined if it is not one (checked: Redis is shared with others). */
export function parseLease(text: string | null): Lease | undefined {
  const match = /^([0-9a-f]{16}) (\d+) (\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(text ?? '');
  if (!match || Number(match[4]) > 65535) return undefined;
  return { relayId: match[1], seq: Number(match[2]), peer: { host: match[3].replace(/^\[|\]$/g, ''), port: Number(match[4]) } };
}

export function parseClaim(text: string): LeaseClaim | undefined {
  const [hostname, relayId, seq] = text.split(' ');
  if (!hostname || !RELAY_ID.test(relayId ?? '') || !/^\d+$/.test(seq ?? '')) return undefined;
  return { hostname, relayId, seq: Number(seq) };
}
