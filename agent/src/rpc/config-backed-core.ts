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
import { watchConfigFile } from '../runtime/config-watcher';
import { relayTcpPorts, releaseOnRelay } from '../tunnel/relay-tcp-ports';
import { AGENT_VERSION } from '../version';
import { AgentCoreError, type AgentCore, type AgentCoreEvent, type Disposable } from './agent-core';
import { coded, codedRelayError } from './coded-errors';
import { OpenConnections } from './open-connections';
import { checkRelayUrl, isSameRelaySetup, relaySetupConfig, verifyWithRelay } from './relay-setup';
import { httpRouteOfRequest } from './route-requests';
import { httpRouteOf, routeListOf, tcpRouteOf } from './route-views';
import { tunnelStatusOf } from './tunnel-status';
import { TunnelRunner } from './tunnel-runner';
import { formatHostPort } from '../../../common/net/host-port';

const DEFAULT_START_TIMEOUT_MS = 15_000;

export class ConfigBackedCore implements AgentCore {
  readonly version = AGENT_VERSION;
  private readonly listeners = new Set<(event: AgentCoreEvent) => void>();
  private readonly connections = new OpenConnections((event) => this.emit(event));
  private readonly tunnel: TunnelRunner;
  private stopWatching: (() => void) | undefined;
  /** The file as this core last wrote it: the watcher skips our own saves. */
  private ownSave: string | undefined;

  constructor(readonly configPath: string) {
    this.tunnel = new TunnelRunner(configPath, {
      log: (level, message) => this.log(level, message),
      stateChanged: () => this.emit({ type: 'state', status: this.status() }),
      rejectionsChanged: () => this.emitRoutes(),
      connectionOpen: (c) => this.connections.opened(c),
      connectionClose: (c) => this.connections.closed(c),
      connectionsGone: () => this.connections.closeAll(),
    });
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
    this.tunnel.reload();
    this.emitRoutes();
  }

  private emitRoutes(): void {
    let config: AgentConfig | undefined;
    try {
      config = loadConfigIfPresent(this.configPath);
    } catch {
      return; // a half-edited file; the runtime reports it
    }
    this.emit({ type: 'routes', routes: routeListOf(config, this.tunnel.rejections) });
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
    return tunnelStatusOf(config, this.tunnel.state, this.tunnel.lastRefusal);
  }

  async start(params: TunnelStartRequest.Params): Promise<TunnelStatus> {
    this.loadOrThrow();
    await this.tunnel.start(params.waitForOnline === false ? undefined : params.timeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    return this.status();
  }

  async stop(): Promise<TunnelStatus> {
    this.tunnel.stop();
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
    const wasRunning = this.tunnel.running;
    const config = relaySetupConfig(existing, params);
    if (params.verify !== false) {
      // One session per identity: stop ours while checking, or the relay would see two.
      this.tunnel.dispose();
      try {
        config.hostname = await verifyWithRelay(config, params.hostname ?? config.hostname);
      } catch (err) {
        if (wasRunning && existing) await this.tunnel.start(undefined);
        throw err;
      }
    }
    fs.mkdirSync(path.dirname(this.configPath), { recursive: true, mode: 0o700 });
    this.save(config);
    this.watchConfig();
    this.log('info', `relay configured: ${config.relay.url}${config.hostname ? `, hostname ${config.hostname}` : ''}`);
    if (wasRunning) {
      this.tunnel.dispose();
      await this.tunnel.start(undefined);
    }
    this.emitRoutes();
    const status = this.status();
    this.emit({ type: 'state', status });
    return status;
  }

  async listRoutes(): Promise<RouteList> {
    try {
      return routeListOf(loadConfigIfPresent(this.configPath), this.tunnel.rejections);
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
    this.tunnel.apply(config);
    this.emit({ type: 'routes', routes: routeListOf(config, this.tunnel.rejections) });
    return config;
  }

  async addHttpRoute(params: RouteAddRequest.Params): Promise<HttpRoute> {
    const route = await httpRouteOfRequest(this.loadOrThrow(), params);
    const config = this.edit((c) => putHttpRoute(c, route));
    this.log('info', `HTTP route ${route.domain} → ${route.webroot ?? formatHostPort(route.destination!, route.http!)}`);
    return httpRouteOf(config, route, this.tunnel.rejections);
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
    return tcpRouteOf(updated, route, this.tunnel.rejections);
  }

  async forwardTcpPort(params: TcpForwardRequest.Params): Promise<TcpPortRoute> {
    let route!: TcpRouteConfig;
    const updated = this.edit((c) => {
      route = setTcpForward(c, params.port, params.destination ?? DEFAULT_TCP_DESTINATION, params.destinationPort);
    });
    this.log('info', `TCP port ${params.port} → ${formatHostPort(params.destination ?? DEFAULT_TCP_DESTINATION, params.destinationPort)}`);
    return tcpRouteOf(updated, route, this.tunnel.rejections);
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
    this.tunnel.dispose();
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
