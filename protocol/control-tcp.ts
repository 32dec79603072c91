/**
 * TCP port control requests (agent → relay, usually over a control-mode session). Every request
 * acts on the identity of the session that sends it; no request names an identity.
 * Declared once here; each side validates what it receives with the parsers below.
 */

export const TcpMethod = {
  /** Params TcpAllocateParams → TcpAllocation: a free port of the relay's range (or the one asked for). */
  Allocate: 'tcp/allocate',
  /** Params TcpPortParams → TcpAllocation (the port released). */
  Release: 'tcp/release',
  /** No params → TcpPortList of this identity. */
  List: 'tcp/list',
} as const;

/** Error codes a TCP request may answer with (ControlResponse.error.code). */
export type TcpErrorCode =
  | 'invalid-port' // not a port number, or outside the relay's range
  | 'none-free' // every port of the range is allocated
  | 'taken' // the port asked for belongs to another identity
  | 'not-yours' // release of a port this identity does not hold
  | 'limit-reached' // this identity holds the most ports it may
  | 'disabled'; // the relay runs without a TCP port range

/** The smallest and largest port number of a range, both included. */
export interface PortRangeWire {
  first: number;
  last: number;
}

export interface TcpAllocateParams {
  /** A specific port of the range; any free one when absent. */
  port?: number;
}

export interface TcpPortParams {
  port: number;
}

export interface TcpAllocation {
  port: number;
  /** ISO 8601. */
  allocatedAt: string;
}

export interface TcpPortList {
  ports: TcpAllocation[];
  /** The relay's range, or null when TCP ports are disabled. */
  range: PortRangeWire | null;
}

const isPortNumber = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;

/** Relay side: validates tcp/allocate params (they came from the network). */
export function parseTcpAllocateParams(params: unknown): TcpAllocateParams {
  if (params === undefined || params === null) return {};
  const p = params as Record<string, unknown>;
  if (typeof p !== 'object' || (p.port !== undefined && !isPortNumber(p.port))) {
    throw new TypeError('params must be {} or {port: 1..65535}');
  }
  return p.port === undefined ? {} : { port: p.port as number };
}

/** Relay side: validates tcp/release params. */
export function parseTcpPortParams(params: unknown): TcpPortParams {
  const p = params as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null || !isPortNumber(p.port)) throw new TypeError('params must be {port: 1..65535}');
  return { port: p.port };
}

function isAllocation(value: unknown): value is TcpAllocation {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && isPortNumber(v.port) && typeof v.allocatedAt === 'string';
}

function isRange(value: unknown): value is PortRangeWire {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && isPortNumber(v.first) && isPortNumber(v.last) && v.first <= v.last;
}

/** Agent side: validates the relay's answers. */
export const parseTcpAnswer = {
  allocation(value: unknown): TcpAllocation {
    if (!isAllocation(value)) throw new TypeError('malformed TCP port answer from the relay');
    return { port: value.port, allocatedAt: value.allocatedAt };
  },
  list(value: unknown): TcpPortList {
    const v = value as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || !Array.isArray(v.ports) || !v.ports.every(isAllocation) || !(v.range === null || isRange(v.range))) {
      throw new TypeError('malformed TCP port list from the relay');
    }
    const range = v.range as PortRangeWire | null;
    return {
      ports: (v.ports as TcpAllocation[]).map((a) => ({ port: a.port, allocatedAt: a.allocatedAt })),
      range: range && { first: range.first, last: range.last },
    };
  },
};
