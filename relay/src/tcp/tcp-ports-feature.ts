import type { Socket } from 'node:net';
import { ControlRequestError } from '../../../mux/control-channel';
import {
  parseTcpAllocateParams,
  parseTcpPortParams,
  TcpMethod,
  type TcpAllocation,
  type TcpPortList,
} from '../../../protocol/control-tcp';
import type { AgentSession } from '../agent-session';
import type { SessionFeatures } from '../session-policy';
import { PortAllocationError, PortAllocator } from './port-allocator';
import type { PortBackend } from './port-backend';
import type { PortRange } from './port-range';
import { canListen, PortListeners } from './port-listeners';
import { forwardTcpConnection } from './tcp-forwarder';

/** How many ports in use by other programs of the relay host an allocation skips before giving up. */
const MAX_BUSY_PORTS_SKIPPED = 20;

/**
 * TCP ports as a session feature: the tcp/* control requests, the rule that a session may only
 * announce ports its identity holds, and listeners that exist only while the identity's tunnel
 * is online. `allocator` is undefined when the relay runs without a port range.
 */
export class TcpPortsFeature {
  /** The online tunnel session of each identity (control-mode sessions never appear here). */
  private readonly tunnels = new Map<string, AgentSession>();
  private readonly listeners: PortListeners;
  /** Which token each identity logged in with (seen since start), for per-token port limits. */
  private readonly tokenOf = new Map<string, string>();
  private portLimitOf: (tokenId: string) => { name: string; maxTcpPorts?: number } | undefined = () => undefined;

  constructor(
    private readonly allocator: PortAllocator | undefined,
    private readonly host: string,
    private readonly log: (line: string) => void,
    /** A connection one side half-closed ends once idle this long (the relay's idle timeout). */
    private readonly idleTimeoutMs?: number,
  ) {
    this.listeners = new PortListeners(host, (port, socket) => this.onConnection(port, socket), log);
  }

  /** The feature for a relay's options: allocations persist in dataDir (or `backend`: Redis), listeners bind to host. */
  static open(
    options: { dataDir: string; host: string; tcpPorts: PortRange | undefined; security?: { limits: { idleTimeoutMs: number } } },
    log: (line: string) => void,
    backend?: PortBackend,
  ): TcpPortsFeature {
    const allocator = options.tcpPorts && PortAllocator.open(options.dataDir, options.tcpPorts, { backend });
    return new TcpPortsFeature(allocator, options.host, log, options.security?.limits.idleTimeoutMs);
  }

  install(features: SessionFeatures): void {
    features.handle(TcpMethod.Allocate, (session, params) => this.allocate(session, params));
    features.handle(TcpMethod.Release, (session, params) => this.release(session, params));
    features.handle(TcpMethod.List, (session) => this.list(session));
    features.allowPorts((session, port) => this.allocator !== undefined && this.allocator.range.includes(port) && this.allocator.ownerOf(port) === session.identityId);
    features.observe({
      online: (session) => this.online(session),
      offline: (session) => this.offline(session),
    });
  }

  /** Whether the identity holds any TCP port (its hostname is then never reclaimed). */
  holdsPorts(identityId: string): boolean {
    return (this.allocator?.portsOf(identityId).length ?? 0) > 0;
  }

  /** Per-token limits (`token create --max-tcp-ports N`): looked up by the session's token. */
  limitPortsByToken(lookup: (tokenId: string) => { name: string; maxTcpPorts?: number } | undefined): void {
    this.portLimitOf = lookup;
  }

  /** Refuses a new port when the identities using this session's token already hold the token's maximum. */
  private checkTokenLimit(session: AgentSession, requested: number | undefined, allocator: PortAllocator): void {
    if (session.tokenId === undefined) return;
    this.tokenOf.set(session.identityId, session.tokenId);
    const token = this.portLimitOf(session.tokenId);
    if (token?.maxTcpPorts === undefined) return;
    if (requested !== undefined && allocator.ownerOf(requested) === session.identityId) return; // already its own
    let held = 0;
    for (const [identity, tokenId] of this.tokenOf) if (tokenId === session.tokenId) held += allocator.portsOf(identity).length;
    if (held >= token.maxTcpPorts) {
      throw new ControlRequestError('limit-reached', `token "${token.name}" allows ${token.maxTcpPorts} TCP port(s) and its agents hold ${held}; release one first`);
    }
  }

  /** Draining: the allocated ports refuse new connections; those in flight finish. */
  stopAccepting(): void {
    this.listeners.stopAccepting();
  }

  close(): void {
    this.listeners.closeAll();
    this.tunnels.clear();
  }

  private requireAllocator(): PortAllocator {
    if (!this.allocator) throw new ControlRequestError('disabled', 'this relay has no TCP port range (it runs with --tcp-ports off)');
    return this.allocator;
  }

  private async allocate(session: AgentSession, params: unknown): Promise<TcpAllocation> {
    const allocator = this.requireAllocator();
    const { port: requested } = withCode('invalid-port', () => parseTcpAllocateParams(params));
    const identity = session.identityId;
    this.checkTokenLimit(session, requested, allocator);
    const skip = new Set<number>();
    while (skip.size <= MAX_BUSY_PORTS_SKIPPED) {
      const alreadyHeld = requested !== undefined && allocator.ownerOf(requested) === identity;
      const allocation = withCode(undefined, () => allocator.allocate(identity, requested, skip));
      if (!(await storedFirst(allocator))) {
        // Another relay of the cluster gave the port away a moment before.
        if (requested !== undefined) throw new ControlRequestError('taken', `port ${requested} is allocated to another agent`);
        skip.add(allocation.port);
        continue;
      }
      if (await this.usable(identity, allocation.port)) {
        if (!alreadyHeld) this.log(`tcp port ${allocation.port}: allocated to ${session.hostname}`);
        return allocation;
      }
      if (alreadyHeld) return allocation; // its own port, busy for now; its listener retries on reconnect
      allocator.release(identity, allocation.port);
      if (requested !== undefined) throw new ControlRequestError('taken', `port ${requested} is in use by another program on the relay host`);
      skip.add(allocation.port);
    }
    throw new ControlRequestError('none-free', 'no free TCP port could be bound on the relay host; try again later');
  }

  /** Binds the port now when the identity's tunnel is online, else checks that it could be. */
  private usable(identity: string, port: number): Promise<boolean> {
    if (this.tunnels.has(identity)) return this.listeners.open(identity, port);
    return canListen(this.host, port);
  }

  private release(session: AgentSession, params: unknown): TcpAllocation {
    const allocator = this.requireAllocator();
    const { port } = withCode('invalid-port', () => parseTcpPortParams(params));
    const released = withCode(undefined, () => allocator.release(session.identityId, port));
    this.listeners.close(port);
    this.log(`tcp port ${port}: released by ${session.hostname}`);
    return released;
  }

  private list(session: AgentSession): TcpPortList {
    if (!this.allocator) return { ports: [], range: null };
    return { ports: this.allocator.portsOf(session.identityId), range: this.allocator.range.toWire() };
  }

  private online(session: AgentSession): void {
    if (session.tokenId !== undefined) this.tokenOf.set(session.identityId, session.tokenId);
    if (!this.allocator) return;
    this.tunnels.set(session.identityId, session);
    for (const { port } of this.allocator.portsOf(session.identityId)) {
      if (this.allocator.range.includes(port)) void this.listeners.open(session.identityId, port);
    }
  }

  private offline(session: AgentSession): void {
    if (this.tunnels.get(session.identityId) !== session) return; // a newer session took over
    this.tunnels.delete(session.identityId);
    this.listeners.closeIdentity(session.identityId);
  }

  private onConnection(port: number, socket: Socket): void {
    socket.on('error', () => socket.destroy());
    const owner = this.allocator?.ownerOf(port);
    const session = owner === undefined ? undefined : this.tunnels.get(owner);
    if (!session?.isOpen) return void socket.destroy();
    forwardTcpConnection(socket, session, port, this.idleTimeoutMs);
  }
}

/** Whether the latest allocation was stored as ours (false: another relay's allocation of the port won). */
function storedFirst(allocator: PortAllocator): Promise<boolean> {
  return allocator.written().then(
    () => true,
    (err: unknown) => {
      if (err instanceof PortAllocationError && err.code === 'taken') return false;
      throw err;
    },
  );
}

/** Runs `fn`, turning allocator and parameter errors into coded answers for the agent. */
function withCode<T>(paramCode: 'invalid-port' | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PortAllocationError) throw new ControlRequestError(err.code, err.message);
    if (paramCode && err instanceof TypeError) throw new ControlRequestError(paramCode, err.message);
    throw err;
  }
}
