/**
 * The AgentCore the JSON-RPC server drives: the agent's config file and an AgentRuntime (tunnel +
 * route table). An edit goes through the same config modules as the CLI's, is applied to the
 * running tunnel in memory and written once; one watcher picks up edits made outside (the CLI).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  RpcErrorCode,
  type ConnectionInfo,
  type FirewallRule,
  type HttpRoute,
  type RelayConfigureRequest,
  type RouteAddRequest,
  type RouteList,
  type RouteRef,
  type TcpAllocateRequest,
  type TcpForwardRequest,
  type TcpPortRoute,
  type TunnelStartRequest,
  type TunnelStatus,
} from '../../../protocol/rpc';
import { ConfigFileError, loadConfigIfPresent, saveConfig } from '../config/config-file';
import { normalizeDomain } from '../config/domain-rules';
import { fileStamp } from '../config/file-stamp';
import { canonicalNetwork, removeFirewallRule, routeLabel, setFirewallRule, type FirewallRouteRef } from '../config/firewall-rules';
import { putHttpRoute, removeHttpRoute } from '../config/http-routes';
import type { AgentConfig, TcpRouteConfig } from '../config/schema';
import { DEFAULT_TCP_DESTINATION, isForwarded, normalizeTcpDestination, recordTcpAllocation, removeTcpRoute, setTcpForward } from '../config/tcp-routes';
import { AgentRuntime } from '../runtime/agent-runtime';
import { watchConfigFile } from '../runtime/config-watcher';
import { relayTcpPorts, releaseOnRelay } from '../tunnel/relay-tcp-ports';
import type { TunnelState } from '../tunnel/tunnel-client';
import { AGENT_VERSION } from '../version';
import { AgentCoreError, type AgentCore, type AgentCoreEvent, type Disposable } from './agent-core';
import { coded, codedRelayError, rpcCodeForRefusal } from './coded-errors';
import { OpenConnections } from './open-connections';
import { checkRelayUrl, isSameRelaySetup, relaySetupConfig, verifyWithRelay } from './relay-setup';
import { httpRouteOfRequest } from './route-requests';
import { httpRouteOf, routeListOf, tcpRouteOf } from './route-views';
import { tunnelStatusOf, type LastRefusal } from './tunnel-status';
import { formatHostPort } from '../../../common/net/host-port';

const DEFAULT_START_TIMEOUT_MS = 15_000;

export class ConfigBackedCore implements AgentCore {
  readonly version = AGENT_VERSION;
  private runtime: AgentRuntime | undefined;
  private readonly listeners = new Set<(event: AgentCoreEvent) => void>();
  private readonly connections = new OpenConnections((event) => this.emit(event));
  private stopWatching: (() => void) | undefined;
  /** The file as this core last wrote it: the watcher skips our own saves. */
  private ownSave: string | undefined;
  /** Last fatal refusal, kept so status() can name its code after the runtime gave up. */
  private lastRefusal: LastRefusal | undefined;
  /** The relay's refusals of the last routes announcement, by routeResultName; shown on the routes. */
  private rejections = new Map<string, string>();

  constructor(readonly configPath: string) {
    this.watchConfig();
  }

  onEvent(listener: (event: AgentCoreEvent) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(event: AgentCoreEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.emit({ type: 'log', entry: { level, message, time: Date.now() } });
  }

  /** The one watcher (when the config's folder exists): outside edits reload the tunnel and refresh the views. */
  private watchConfig(): void {
    if (this.stopWatching || !fs.existsSync(path.dirname(this.configPath))) return;
    try {
      this.stopWatching = watchConfigFile(this.configPath, () => this.outsideEdit());
    } catch {
      this.stopWatching = undefined;
    }
  }

  private outsideEdit(): void {
    if (fileStamp(this.configPath) === this.ownSave) return;
    this.runtime?.reload();
    this.emitRoutes();
  }

  private emitRoutes(): void {
    let config: AgentConfig | undefined;
    try {
      config = loadConfigIfPresent(this.configPath);
    } catch {
      return; // a half-edited file; the runtime reports it
    }
    this.emit({ type: 'routes', routes: routeListOf(config, this.rejections) });
  }

  private save(config: AgentConfig): void {
    saveConfig(this.configPath, config);
    this.ownSave = fileStamp(this.configPath);
  }

  private loadOrThrow(): AgentConfig {
    let config: AgentConfig | undefined;
    try {
      config = loadConfigIfPresent(this.configPath);
    } catch (err) {
      if (err instanceof ConfigFileError) throw new AgentCoreError(RpcErrorCode.InvalidArgument, err.message);
      throw err;
    }
    if (!config) throw new AgentCoreError(RpcErrorCode.NotConfigured, 'no relay is configured yet; configure one first (Portway: Configure Relay, or `portway configure`)');
    return config;
  }

  status(): TunnelStatus {
    let config: AgentConfig | undefined;
    try {
      config = loadConfigIfPresent(this.configPath);
    } catch (err) {
      return { state: 'offline', configured: true, reason: (err as Error).message };
    }
    return tunnelStatusOf(config, this.runtime?.state, this.lastRefusal);
  }

  async start(params: TunnelStartRequest.Params): Promise<TunnelStatus> {
    this.loadOrThrow();
    const current = this.runtime?.state;
    if (current && current.status === 'offline' && current.fatal) this.disposeRuntime();
    if (!this.runtime) this.createRuntime();
    if (params.waitForOnline === false) return this.status();
    await this.waitForSettled(params.timeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    return this.status();
  }

  /** Resolves once the runtime is online or offline (or stopped), or after timeoutMs. */
  private waitForSettled(timeoutMs: number): Promise<void> {
    const runtime = this.runtime;
    if (!runtime) return Promise.resolve();
    const settled = (s: TunnelState) => s.status !== 'connecting';
    if (settled(runtime.state)) return Promise.resolve();
    return new Promise((resolve) => {
      const onState = (s: TunnelState) => {
        if (settled(s)) finish();
      };
      const finish = () => {
        clearTimeout(timer);
        runtime.off('state', onState);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      runtime.on('state', onState);
    });
  }

  private createRuntime(): void {
    const runtime = new AgentRuntime(this.configPath, { watchConfig: false });
    this.lastRefusal = undefined;
    runtime.on('state', (state) => {
      if (state.status === 'offline') this.log(state.fatal ? 'error' : 'warn', `tunnel offline: ${state.reason}`);
      // Kept for status() after the runtime that was refused is disposed.
      if (state.status === 'offline' && state.fatal) this.lastRefusal = { code: rpcCodeForRefusal(state.refusal) ?? RpcErrorCode.RelayUnreachable, message: state.reason };
      if (state.status === 'online') this.log('info', `tunnel online as ${state.hostname}`);
      if (state.status !== 'online') this.setRejections([]);
      this.emit({ type: 'state', status: this.status() });
    });
    runtime.on('routesApplied', (rejected) => {
      for (const r of rejected) this.log('error', `the relay refused ${r.route}: ${r.reason}`);
      this.setRejections(rejected);
    });
    runtime.on('configError', (err) => this.log('error', `${err.message} (keeping the previous routes)`));
    runtime.on('log', (line) => this.log('info', line));
    runtime.on('connectionOpen', (c) => this.connections.opened(c));
    runtime.on('connectionClose', (c) => this.connections.closed(c));
    this.runtime = runtime;
    runtime.start();
  }

  /** Keeps the relay's refusals for the route views; the views are sent again when they change. */
  private setRejections(rejected: { route: string; reason: string }[]): void {
    const next = new Map(rejected.map((r) => [r.route, r.reason]));
    const same = next.size === this.rejections.size && [...next].every(([route, reason]) => this.rejections.get(route) === reason);
    if (same) return;
    this.rejections = next;
    this.emitRoutes();
  }

  private disposeRuntime(): void {
    const runtime = this.runtime;
    if (!runtime) return;
    this.runtime = undefined;
    runtime.stop();
    runtime.removeAllListeners();
    this.connections.closeAll();
    this.rejections = new Map();
  }

  async stop(): Promise<TunnelStatus> {
    this.disposeRuntime();
    this.lastRefusal = undefined;
    const status = this.status();
    this.emit({ type: 'state', status });
    return status;
  }

  async configureRelay(params: RelayConfigureRequest.Params): Promise<TunnelStatus> {
    checkRelayUrl(params.relayUrl);
    let existing: AgentConfig | undefined;
    try {
      existing = loadConfigIfPresent(this.configPath);
    } catch (err) {
      if (!(err instanceof ConfigFileError)) throw err;
      throw new AgentCoreError(RpcErrorCode.InvalidArgument, `${err.message}; remove the file to start over`);
    }
    if (isSameRelaySetup(existing, params)) return this.status(); // nothing changes
    const wasRunning = this.runtime !== undefined;
    const config = relaySetupConfig(existing, params);
    if (params.verify !== false) {
      // One session per identity: stop ours while checking, or the relay would see two.
      this.disposeRuntime();
      try {
        config.hostname = await verifyWithRelay(config, params.hostname ?? config.hostname);
      } catch (err) {
        if (wasRunning && existing) this.createRuntime();
        throw err;
      }
    }
    fs.mkdirSync(path.dirname(this.configPath), { recursive: true, mode: 0o700 });
    this.save(config);
    this.watchConfig();
    this.log('info', `relay configured: ${config.relay.url}${config.hostname ? `, hostname ${config.hostname}` : ''}`);
    if (wasRunning) {
      this.disposeRuntime();
      this.createRuntime();
    }
    this.emitRoutes();
    const status = this.status();
    this.emit({ type: 'state', status });
    return status;
  }

  async listRoutes(): Promise<RouteList> {
    try {
      return routeListOf(loadConfigIfPresent(this.configPath), this.rejections);
    } catch (err) {
      if (err instanceof ConfigFileError) throw new AgentCoreError(RpcErrorCode.InvalidArgument, err.message);
      throw err;
    }
  }

  /** Changes the config with the shared edit modules, applies it to the running tunnel and saves it once. */
  private edit(change: (config: AgentConfig) => void): AgentConfig {
    const config = this.loadOrThrow();
    try {
      change(config);
    } catch (err) {
      throw coded(err);
    }
    this.save(config);
    this.runtime?.apply(config);
    this.emit({ type: 'routes', routes: routeListOf(config, this.rejections) });
    return config;
  }

  async addHttpRoute(params: RouteAddRequest.Params): Promise<HttpRoute> {
    const route = await httpRouteOfRequest(this.loadOrThrow(), params);
    const config = this.edit((c) => putHttpRoute(c, route));
    this.log('info', `HTTP route ${route.domain} → ${route.webroot ?? formatHostPort(route.destination!, route.http!)}`);
    return httpRouteOf(config, route, this.rejections);
  }

  async removeHttpRoute(domainText: string): Promise<void> {
    let domain = '';
    this.edit((c) => {
      domain = normalizeDomain(domainText);
      removeHttpRoute(c, domain);
    });
    this.log('info', `HTTP route ${domain} removed`);
  }

  async allocateTcpPort(params: TcpAllocateRequest.Params): Promise<TcpPortRoute> {
    const config = this.loadOrThrow();
    let destination: string | undefined;
    try {
      if (params.destinationPort !== undefined) destination = normalizeTcpDestination(params.destination ?? DEFAULT_TCP_DESTINATION);
    } catch (err) {
      throw coded(err);
    }
    const allocation = await relayTcpPorts.allocate(config).catch((err: unknown) => Promise.reject(codedRelayError(err)));
    let route!: TcpRouteConfig;
    const updated = this.edit((c) => {
      route = recordTcpAllocation(c, allocation.port);
      if (destination !== undefined && params.destinationPort !== undefined) route = setTcpForward(c, allocation.port, destination, params.destinationPort);
    });
    this.log('info', `TCP port ${allocation.port} allocated${isForwarded(route) ? ` → ${formatHostPort(route.destination, route.dstport)}` : ''}`);
    return tcpRouteOf(updated, route, this.rejections);
  }

  async forwardTcpPort(params: TcpForwardRequest.Params): Promise<TcpPortRoute> {
    let route!: TcpRouteConfig;
    const updated = this.edit((c) => {
      route = setTcpForward(c, params.port, params.destination ?? DEFAULT_TCP_DESTINATION, params.destinationPort);
    });
    this.log('info', `TCP port ${params.port} → ${formatHostPort(params.destination ?? DEFAULT_TCP_DESTINATION, params.destinationPort)}`);
    return tcpRouteOf(updated, route, this.rejections);
  }

  async releaseTcpPort(port: number): Promise<void> {
    const config = this.loadOrThrow();
    await releaseOnRelay(config, port).catch((err: unknown) => Promise.reject(codedRelayError(err)));
    if (config.tcp.some((t) => t.port === port)) this.edit((c) => removeTcpRoute(c, port));
    this.log('info', `TCP port ${port} released`);
  }

  async addFirewallRule(ref: RouteRef, rule: FirewallRule): Promise<FirewallRule[]> {
    let rules: FirewallRule[] = [];
    let target!: FirewallRouteRef;
    let network = '';
    this.edit((c) => {
      target = firewallRef(ref);
      network = canonicalNetwork(rule.network);
      rules = setFirewallRule(c, target, rule.action, network).map((r) => ({ ...r }));
    });
    this.log('info', `firewall: ${rule.action} ${network} on ${routeLabel(target)}`);
    return rules;
  }

  async removeFirewallRule(ref: RouteRef, rule: FirewallRule): Promise<FirewallRule[]> {
    let rules: FirewallRule[] = [];
    this.edit((c) => {
      rules = removeFirewallRule(c, firewallRef(ref), rule.network).map((r) => ({ ...r }));
    });
    return rules;
  }

  listConnections(): ConnectionInfo[] {
    return this.connections.list();
  }

  async dispose(): Promise<void> {
    this.disposeRuntime();
    this.connections.dispose();
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.listeners.clear();
  }
}

/** The extension's route reference, its domain normalised as the CLI's --domain is. */
function firewallRef(ref: RouteRef): FirewallRouteRef {
  return ref.kind === 'http' ? { kind: 'http', domain: normalizeDomain(ref.domain) } : { kind: 'tcp', port: ref.port };
}
