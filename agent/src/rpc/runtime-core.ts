/**
 * The real AgentCore: the agent's config file and AgentRuntime (tunnel + route table), as the
 * JSON-RPC server sees them. Every edit takes the same path as the CLI (load, change, atomic
 * save) and is applied to a running tunnel at once, so CLI and extension can be mixed freely.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertDomainAllowed, normalizeDomain } from '../config/domain-rules';
import { AGENT_NAME, AGENT_VERSION } from '../version';
import { ConfigFileError, loadConfigIfPresent, saveConfig, updateConfig } from '../config/config-file';
import type { AgentConfig, FirewallRuleConfig, HttpRouteConfig, TcpRouteConfig } from '../config/schema';
import { DEFAULT_TCP_DESTINATION, normalizeTcpDestination, recordTcpAllocation, removeTcpRoute, setTcpForward } from '../config/tcp-routes';
import { AgentRuntime, type ConnectionInfo as RuntimeConnection } from '../runtime/agent-runtime';
import { watchConfigFile } from '../runtime/config-watcher';
import { connectToRelay } from '../tunnel/relay-connection';
import { connectUrl } from '../tunnel/relay-url';
import { relayTcpPorts, releaseOnRelay } from '../tunnel/relay-tcp-ports';
import type { TunnelState as RuntimeTunnelState } from '../tunnel/tunnel-client';
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
import { AgentCoreError, type AgentCore, type AgentCoreEvent, type Disposable } from './agent-core';
import { coded, codedRelayError, normalizeNetwork, rpcCodeForRefusal } from './coded-errors';
import { OpenConnections } from './open-connections';
import { isListening } from '../serve/port-probe';
import { normalizeDestination } from '../config/destination';
import { publicUrl } from '../config/public-address';
import { httpRouteOf, routeListOf, tcpRouteOf } from './route-views';

const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_DESTINATION = '127.0.0.1';

export class RuntimeAgentCore implements AgentCore {
  readonly version = AGENT_VERSION;
  private runtime: AgentRuntime | undefined;
  private readonly listeners = new Set<(event: AgentCoreEvent) => void>();
  private readonly connections = new OpenConnections((event) => this.emit(event));
  private stopWatching: (() => void) | undefined;
  /** Last fatal refusal, kept so status() can name its code after the runtime gave up. */
  private lastRefusal: { code: RpcErrorCode; message: string } | undefined;
  private lastRoutesSent: string | undefined;

  constructor(readonly configPath: string) {
    this.watchConfig();
  }

  onEvent(listener: (event: AgentCoreEvent) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(event: AgentCoreEvent): void {
    if (event.type === 'routes') {
      // One edit is seen three times (our save, the runtime's reload, the file watcher): send it once.
      const text = JSON.stringify(event.routes);
      if (text === this.lastRoutesSent) return;
      this.lastRoutesSent = text;
    }
    for (const listener of [...this.listeners]) listener(event);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.emit({ type: 'log', entry: { level, message, time: Date.now() } });
  }

  /** Watches the config file (when its folder exists) so edits made with the CLI refresh the views. */
  private watchConfig(): void {
    if (this.stopWatching || !fs.existsSync(path.dirname(this.configPath))) return;
    try {
      this.stopWatching = watchConfigFile(this.configPath, () => this.emitRoutes());
    } catch {
      this.stopWatching = undefined;
    }
  }

  private emitRoutes(): void {
    let config: AgentConfig | undefined;
    try {
      config = loadConfigIfPresent(this.configPath);
    } catch {
      return; // a half-edited file; the runtime reports it
    }
    this.emit({ type: 'routes', routes: routeListOf(config) });
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
    if (!config) return { state: 'stopped', configured: false };
    const hostname = config.hostname;
    const base: TunnelStatus = {
      state: 'stopped',
      configured: true,
      relayUrl: config.relay.url,
      hostname,
      url: hostname ? publicUrl(config.relay.url, hostname) : undefined,
    };
    const state: RuntimeTunnelState | undefined = this.runtime?.state;
    if (!state) {
      return this.lastRefusal ? { ...base, state: 'offline', reason: this.lastRefusal.message, errorCode: this.lastRefusal.code } : base;
    }
    switch (state.status) {
      case 'stopped':
        return base;
      case 'connecting':
        return { ...base, state: 'connecting' };
      case 'online':
        return { ...base, state: 'online', hostname: state.hostname, url: publicUrl(config.relay.url, state.hostname) };
      case 'offline':
        return {
          ...base,
          state: 'offline',
          reason: state.reason,
          nextAttemptAt: state.retryInMs !== undefined ? Date.now() + state.retryInMs : undefined,
          errorCode: state.fatal ? rpcCodeForRefusal(state.refusal) : RpcErrorCode.RelayUnreachable,
        };
      default: {
        const unreachable: never = state;
        return unreachable;
      }
    }
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
    const settled = (s: RuntimeTunnelState) => s.status !== 'connecting';
    if (settled(runtime.state)) return Promise.resolve();
    return new Promise((resolve) => {
      const onState = (s: RuntimeTunnelState) => {
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
    const runtime = new AgentRuntime(this.configPath);
    this.lastRefusal = undefined;
    runtime.on('state', (state: RuntimeTunnelState) => {
      if (state.status === 'offline') this.log(state.fatal ? 'error' : 'warn', `tunnel offline: ${state.reason}`);
      // Kept for status() after the runtime that was refused is disposed.
      if (state.status === 'offline' && state.fatal) this.lastRefusal = { code: rpcCodeForRefusal(state.refusal) ?? RpcErrorCode.RelayUnreachable, message: state.reason };
      if (state.status === 'online') this.log('info', `tunnel online as ${state.hostname}`);
      this.emit({ type: 'state', status: this.status() });
    });
    runtime.on('config', () => this.emitRoutes());
    runtime.on('configError', (err: Error) => this.log('error', `${err.message} (keeping the previous routes)`));
    runtime.on('log', (line: string) => this.log('info', line));
    runtime.on('connectionOpen', (c: RuntimeConnection) => this.connections.opened(c));
    runtime.on('connectionClose', (c: { id: number; bytesIn: number; bytesOut: number }) => this.connections.closed(c));
    this.runtime = runtime;
    runtime.start();
  }

  private disposeRuntime(): void {
    const runtime = this.runtime;
    if (!runtime) return;
    this.runtime = undefined;
    runtime.stop();
    runtime.removeAllListeners();
    this.connections.closeAll();
  }

  async stop(): Promise<TunnelStatus> {
    this.disposeRuntime();
    this.lastRefusal = undefined;
    const status = this.status();
    this.emit({ type: 'state', status });
    return status;
  }

  async configureRelay(params: RelayConfigureRequest.Params): Promise<TunnelStatus> {
    try {
      connectUrl(params.relayUrl); // validates before anything is written
    } catch (err) {
      throw coded(err);
    }
    let existing: AgentConfig | undefined;
    try {
      existing = loadConfigIfPresent(this.configPath);
    } catch (err) {
      if (!(err instanceof ConfigFileError)) throw err;
      throw new AgentCoreError(RpcErrorCode.InvalidArgument, `${err.message}; remove the file to start over`);
    }
    const sameRelay = existing?.relay.url === params.relayUrl;
    const sameToken = (existing?.relay.token ?? undefined) === (params.token ?? undefined);
    if (existing?.hostname && sameRelay && sameToken && (!params.hostname || existing.hostname.startsWith(`${params.hostname}.`))) {
      return this.status(); // nothing changes
    }
    const wasRunning = this.runtime !== undefined;
    const config: AgentConfig = {
      version: 1,
      relay: { url: params.relayUrl, token: params.token },
      identity: existing?.identity ?? randomBytes(32).toString('base64url'),
      hostname: sameRelay && !params.hostname ? existing?.hostname : undefined,
      acmeDirectory: existing?.acmeDirectory,
      http: existing?.http ?? [],
      tcp: existing?.tcp ?? [],
    };
    if (params.verify !== false) {
      // One session per identity: stop ours while checking, or the relay would see two.
      this.disposeRuntime();
      try {
        const connection = await connectToRelay({
          relayUrl: config.relay.url,
          identity: config.identity,
          auth: config.relay.token,
          requestedHostname: params.hostname ?? config.hostname,
          agentName: AGENT_NAME,
        });
        connection.mux.close('configured');
        config.hostname = connection.welcome.hostname;
      } catch (err) {
        if (wasRunning && existing) this.createRuntime();
        const c = coded(err);
        if (c instanceof AgentCoreError) throw c;
        throw new AgentCoreError(RpcErrorCode.RelayUnreachable, (err as Error).message);
      }
    }
    fs.mkdirSync(path.dirname(this.configPath), { recursive: true, mode: 0o700 });
    saveConfig(this.configPath, config);
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
      return routeListOf(loadConfigIfPresent(this.configPath));
    } catch (err) {
      if (err instanceof ConfigFileError) throw new AgentCoreError(RpcErrorCode.InvalidArgument, err.message);
      throw err;
    }
  }

  /** Saves a change the CLI way and applies it to the running tunnel at once. */
  private edit(change: (config: AgentConfig) => void): AgentConfig {
    this.loadOrThrow();
    let config: AgentConfig;
    try {
      config = updateConfig(this.configPath, change);
    } catch (err) {
      throw coded(err);
    }
    this.runtime?.reload();
    this.emit({ type: 'routes', routes: routeListOf(config) });
    return config;
  }

  private resolveDomain(config: AgentConfig, domain: string | undefined): string {
    const hostname = config.hostname;
    if (!hostname) throw new AgentCoreError(RpcErrorCode.NotConfigured, 'the relay has not assigned a hostname yet; configure the relay again');
    try {
      const full = domain === undefined ? hostname : domain.includes('.') ? normalizeDomain(domain) : normalizeDomain(`${domain}.${hostname}`);
      assertDomainAllowed(config, full);
      return full;
    } catch (err) {
      throw coded(err);
    }
  }

  async addHttpRoute(params: RouteAddRequest.Params): Promise<HttpRoute> {
    const domain = this.resolveDomain(this.loadOrThrow(), params.domain);
    let destination = DEFAULT_DESTINATION;
    try {
      if (params.destination !== undefined) destination = normalizeDestination(params.destination);
    } catch (err) {
      throw coded(err);
    }
    let webroot: string | undefined;
    if (params.webroot !== undefined) {
      webroot = path.resolve(params.webroot);
      if (!fs.statSync(webroot, { throwIfNoEntry: false })?.isDirectory()) {
        throw new AgentCoreError(RpcErrorCode.InvalidArgument, `${params.webroot} is not a directory`);
      }
    } else if (params.requireListening !== false && params.httpPort !== undefined && !(await isListening(destination, params.httpPort))) {
      throw new AgentCoreError(RpcErrorCode.PortNotListening, `nothing is listening on ${destination}:${params.httpPort}; start your server first`);
    }
    const route: HttpRouteConfig = {
      domain,
      destination: webroot ? undefined : destination,
      http: webroot ? undefined : params.httpPort,
      webroot,
      hostRewrite: params.hostRewrite !== false,
      firewall: [],
    };
    const config = this.edit((c) => {
      const index = c.http.findIndex((r) => r.domain === domain);
      if (index >= 0) {
        route.firewall = c.http[index].firewall; // a route's rules survive a change of destination
        c.http[index] = route;
      } else {
        c.http.push(route);
      }
    });
    this.log('info', `HTTP route ${domain} → ${webroot ?? `${destination}:${params.httpPort}`}`);
    return httpRouteOf(config, route);
  }

  async removeHttpRoute(domainText: string): Promise<void> {
    let domain: string;
    try {
      domain = normalizeDomain(domainText);
    } catch (err) {
      throw coded(err);
    }
    this.edit((c) => {
      const index = c.http.findIndex((r) => r.domain === domain);
      if (index < 0) throw new AgentCoreError(RpcErrorCode.NotFound, `there is no HTTP route for ${domain}`);
      c.http.splice(index, 1);
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
    this.log('info', `TCP port ${allocation.port} allocated${route.destination ? ` → ${route.destination}:${route.dstport}` : ''}`);
    return tcpRouteOf(updated, route);
  }

  async forwardTcpPort(params: TcpForwardRequest.Params): Promise<TcpPortRoute> {
    let route!: TcpRouteConfig;
    const updated = this.edit((c) => {
      route = setTcpForward(c, params.port, params.destination ?? DEFAULT_TCP_DESTINATION, params.destinationPort);
    });
    this.log('info', `TCP port ${params.port} → ${route.destination}:${route.dstport}`);
    return tcpRouteOf(updated, route);
  }

  async releaseTcpPort(port: number): Promise<void> {
    const config = this.loadOrThrow();
    await releaseOnRelay(config, port).catch((err: unknown) => Promise.reject(codedRelayError(err)));
    if (config.tcp.some((t) => t.port === port)) this.edit((c) => removeTcpRoute(c, port));
    this.log('info', `TCP port ${port} released`);
  }

  private rulesOf(config: AgentConfig, ref: RouteRef): FirewallRuleConfig[] {
    if (ref.kind === 'http') {
      const domain = ref.domain.toLowerCase().replace(/\.$/, '');
      const route = config.http.find((r) => r.domain === domain);
      if (!route) throw new AgentCoreError(RpcErrorCode.NotFound, `there is no HTTP route for ${ref.domain}`);
      return route.firewall;
    }
    const route = config.tcp.find((r) => r.port === ref.port);
    if (!route) throw new AgentCoreError(RpcErrorCode.NotFound, `TCP port ${ref.port} is not allocated to this agent`);
    return route.firewall;
  }

  async addFirewallRule(ref: RouteRef, rule: FirewallRule): Promise<FirewallRule[]> {
    const network = normalizeNetwork(rule.network);
    let rules: FirewallRuleConfig[] = [];
    this.edit((c) => {
      rules = this.rulesOf(c, ref);
      if (!rules.some((r) => r.action === rule.action && r.network === network)) rules.push({ action: rule.action, network });
    });
    this.log('info', `firewall: ${rule.action} ${network} on ${ref.kind === 'http' ? ref.domain : `port ${ref.port}`}`);
    return rules.map((r) => ({ ...r }));
  }

  async removeFirewallRule(ref: RouteRef, rule: FirewallRule): Promise<FirewallRule[]> {
    let rules: FirewallRuleConfig[] = [];
    this.edit((c) => {
      rules = this.rulesOf(c, ref);
      const index = rules.findIndex((r) => r.action === rule.action && r.network === rule.network.trim());
      if (index < 0) throw new AgentCoreError(RpcErrorCode.NotFound, `there is no "${rule.action} ${rule.network}" rule on this route`);
      rules.splice(index, 1);
    });
    return rules.map((r) => ({ ...r }));
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
