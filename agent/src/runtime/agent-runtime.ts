import { EventEmitter } from 'node:events';
import type { MuxStream } from '../../../mux/stream';
import { loadConfig, updateConfig } from '../config/config-file';
import type { AgentConfig } from '../config/schema';
import { AGENT_NAME } from '../version';
import { createRawHttpProxy } from '../serve/raw-http-proxy';
import { RouteTable } from '../serve/route-table';
import { createStreamDispatcher } from '../serve/stream-dispatcher';
import { createTcpForwardHandler } from '../serve/tcp-forward';
import { AgentTls } from '../tls/agent-tls';
import type { RelayConnection } from '../tunnel/relay-connection';
import { TunnelClient, type TunnelState } from '../tunnel/tunnel-client';
import { routesAnnouncement } from './routes-announcement';
import { watchConfigFile } from './config-watcher';
import { withTransientRoutes, type TransientRoutes } from './transient-routes';

export interface ConnectionInfo {
  id: number;
  kind: string;
  host: string;
  remoteAddress: string;
  openedAt: number;
  /** The stream's live byte counters (from the client / to the client), read while it is open. */
  counters: { readonly bytesIn: number; readonly bytesOut: number };
}

export interface RuntimeOptions {
  /**
   * Routes served for this run only (`portway http PORT`, `portway tcp PORT`): never written to
   * the config file, and they win over a saved route of the same domain or port while it lasts.
   */
  transient?: TransientRoutes;
}

/**
 * The agent's core, shared by `portway start`, `portway http` and the extension's JSON-RPC server:
 * the config (reloaded live), the route table and the tunnel to the relay.
 *
 * Events: 'state' (TunnelState), 'config' (AgentConfig, after a reload),
 * 'configError' (Error), 'routesApplied' / 'routesRejected' ({route, reason}[]), 'connectionOpen' (ConnectionInfo),
 * 'connectionClose' ({id, bytesIn, bytesOut}), 'log' (string).
 */
export class AgentRuntime extends EventEmitter {
  private config: AgentConfig;
  private readonly routes = new RouteTable((route) => this.tls.httpHandler(route));
  /** TLS by SNI, certificates (custom, ACME) and each route's ACME challenges and --redirect. */
  private readonly tls: AgentTls;
  private readonly tunnel: TunnelClient;
  private stopWatching: (() => void) | undefined;
  readonly connections = new Map<number, ConnectionInfo>();
  /** Streams by id from arrival to close, so an opened connection can point at its counters. */
  private readonly liveStreams = new Map<number, MuxStream>();

  constructor(
    readonly configPath: string,
    private readonly options: RuntimeOptions = {},
  ) {
    super();
    this.config = this.effective(loadConfig(configPath));
    this.tls = new AgentTls({ configPath, config: this.config, handlerFor: (domain) => this.routes.handlerFor(domain), log: (line) => this.emit('log', line) });
    this.routes.update(this.config);
    const dispatch = createStreamDispatcher(this.routes, {
      onOpen: (info) => {
        const counters = this.liveStreams.get(info.id) ?? { bytesIn: 0, bytesOut: 0 };
        const connection = { ...info, openedAt: Date.now(), counters };
        this.connections.set(info.id, connection);
        this.emit('connectionOpen', connection);
      },
      onClose: (info) => {
        this.connections.delete(info.id);
        this.emit('connectionClose', info);
      },
      log: (line) => this.emit('log', line),
    }, {
      httpRaw: createRawHttpProxy((host) => this.routes.routeFor(host)),
      tls: (open, stream) => this.tls.handleStream(open, stream),
      tcp: createTcpForwardHandler(() => this.config, (line) => this.emit('log', line)),
    });
    this.tunnel = new TunnelClient(
      {
        relayUrl: this.config.relay.url,
        identity: this.config.identity,
        auth: this.config.relay.token,
        requestedHostname: this.config.hostname,
        agentName: AGENT_NAME,
      },
      (stream) => {
        this.liveStreams.set(stream.id, stream);
        stream.once('close', () => {
          if (this.liveStreams.get(stream.id) === stream) this.liveStreams.delete(stream.id);
        });
        dispatch(stream);
      },
    );
    this.tunnel.on('online', (connection: RelayConnection) => {
      connection.control.on('routes-result', (result) => {
        if (result.rejected.length > 0) this.emit('routesRejected', result.rejected);
        this.emit('routesApplied', result.rejected);
      });
      this.announceRoutes();
      this.tls.online();
    });
    this.tunnel.on('state', (state: TunnelState) => {
      if (state.status === 'online' && state.hostname !== this.config.hostname) this.rememberHostname(state.hostname);
      this.emit('state', state);
    });
  }

  get currentConfig(): AgentConfig {
    return this.config;
  }

  get state(): TunnelState {
    return this.tunnel.state;
  }

  start(): void {
    this.stopWatching = watchConfigFile(this.configPath, () => this.reload());
    this.tunnel.start();
  }

  stop(): void {
    this.stopWatching?.();
    this.tunnel.stop();
    this.tls.stop();
    this.routes.close();
  }

  /** Re-reads the config file; a broken file keeps the running routes and reports why. */
  reload(): void {
    let next: AgentConfig;
    try {
      next = this.effective(loadConfig(this.configPath));
    } catch (err) {
      this.emit('configError', err);
      return;
    }
    const relayChanged = next.relay.url !== this.config.relay.url || next.relay.token !== this.config.relay.token;
    this.config = next;
    this.routes.update(next);
    this.tls.update(next);
    this.announceRoutes();
    this.emit('config', next);
    if (relayChanged) {
      this.tunnel.updateOptions({ relayUrl: next.relay.url, auth: next.relay.token, requestedHostname: next.hostname });
      this.tunnel.stop();
      this.tunnel.start();
    }
  }

  /** Tells the relay which routes exist and their firewalls; it enforces them. */
  private announceRoutes(): void {
    this.tunnel.connection?.control.send(routesAnnouncement(this.config));
  }

  /** The config as served: the file's, plus this run's transient routes. */
  private effective(fromFile: AgentConfig): AgentConfig {
    return withTransientRoutes(fromFile, this.options.transient ?? {});
  }

  private rememberHostname(hostname: string): void {
    this.config.hostname = hostname;
    this.routes.update(this.config);
    try {
      // Only the hostname changes in the file: transient routes stay out of it.
      updateConfig(this.configPath, (config) => {
        config.hostname = hostname;
      });
    } catch (err) {
      this.emit('log', `could not save the assigned hostname: ${(err as Error).message}`);
    }
  }
}
