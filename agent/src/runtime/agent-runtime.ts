import { EventEmitter } from 'node:events';
import { loadConfig, updateConfig } from '../config/config-file';
import type { AgentConfig } from '../config/schema';
import { AGENT_NAME } from '../version';
import type { ConnectionClose, StreamRoute } from '../serve/stream-dispatcher';
import { createRawHttpProxy } from '../serve/raw-http-proxy';
import { RouteTable } from '../serve/route-table';
import { createStreamDispatcher } from '../serve/stream-dispatcher';
import { createTcpForwardHandler } from '../serve/tcp-forward';
import { AgentTls } from '../tls/agent-tls';
import { TunnelClient, type TunnelState } from '../tunnel/tunnel-client';
import { routesAnnouncement } from './routes-announcement';
import { watchConfigFile } from './config-watcher';
import { withTransientRoutes, type TransientRoutes } from './transient-routes';

export interface ConnectionInfo {
  id: number;
  /** The route the stream came in for: an HTTP domain or a TCP port. */
  route: StreamRoute;
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
  /**
   * Whether the runtime watches the config file itself (the CLI). The RPC server turns it off:
   * it owns the one watcher, and hands its own edits over with apply().
   */
  watchConfig?: boolean;
}

/** A route the relay refused in its answer to the last announcement. */
export interface RejectedRoute {
  route: string;
  reason: string;
}

/** What an AgentRuntime emits, with each event's arguments. */
export interface AgentRuntimeEvents {
  state: [state: TunnelState];
  /** After a reload or apply, with the config now served. */
  config: [config: AgentConfig];
  /** The file could not be used; the previous routes are kept. */
  configError: [error: Error];
  /** The relay's answer to an announcement: every refused route (none: all taken). */
  routesApplied: [rejected: RejectedRoute[]];
  connectionOpen: [connection: ConnectionInfo];
  connectionClose: [close: ConnectionClose];
  log: [line: string];
}

/**
 * The agent's core, shared by `portway start`, `portway http` and the extension's JSON-RPC server:
 * the config (reloaded live), the route table and the tunnel to the relay.
 *
 * Its events are typed by AgentRuntimeEvents.
 */
export class AgentRuntime extends EventEmitter<AgentRuntimeEvents> {
  private config: AgentConfig;
  private readonly routes = new RouteTable((route) => this.tls.httpHandler(route));
  /** TLS by SNI, certificates (custom, ACME) and each route's ACME challenges and --redirect. */
  private readonly tls: AgentTls;
  private readonly tunnel: TunnelClient;
  private stopWatching: (() => void) | undefined;
  readonly connections = new Map<number, ConnectionInfo>();

  constructor(
    readonly configPath: string,
    private readonly options: RuntimeOptions = {},
  ) {
    super();
    this.config = this.effective(loadConfig(configPath));
    this.tls = new AgentTls({ configPath, config: this.config, handlerFor: (domain) => this.routes.handlerFor(domain), log: (line) => this.emit('log', line) });
    this.routes.update(this.config);
    const dispatch = createStreamDispatcher(this.routes, {
      onOpen: ({ stream, route, remoteAddress }) => {
        const connection: ConnectionInfo = { id: stream.id, route, remoteAddress, openedAt: Date.now(), counters: stream };
        this.connections.set(stream.id, connection);
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
      dispatch,
    );
    this.tunnel.on('online', (connection) => {
      connection.control.on('routes-result', (result) => this.emit('routesApplied', result.rejected));
      this.announceRoutes();
      this.tls.online();
    });
    this.tunnel.on('state', (state) => {
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
    if (this.options.watchConfig !== false) this.stopWatching = watchConfigFile(this.configPath, () => this.reload());
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
    let fromFile: AgentConfig;
    try {
      fromFile = loadConfig(this.configPath);
    } catch (err) {
      this.emit('configError', err as Error);
      return;
    }
    this.apply(fromFile);
  }

  /** Serves a config the caller already holds (and saved): no second read of the file. */
  apply(fromFile: AgentConfig): void {
    const next = this.effective(structuredClone(fromFile));
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
