/**
 * The extension ⇄ agent JSON-RPC protocol (`portway rpc`, over the agent's stdio).
 *
 * Every request and notification is declared once here, as a namespace holding its literal
 * `method` and a typed `RequestType` / `NotificationType` (the vscode-languageserver-node style).
 * Both ends import these constants, so a wrong parameter or result is a compile error.
 * Requests are named `area/verb`, notifications `area/didX`. This module imports nothing of the
 * extension, the agent or the relay.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';

/** Bumped on any incompatible change; the extension refuses an agent with another major. */
export const RPC_PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Shared shapes

/**
 * stopped: not asked to run. connecting: (re)connecting, maybe after a loss.
 * online: the relay accepted the session. offline: gave up or refused; `reason` says why.
 */
export type TunnelState = 'stopped' | 'connecting' | 'online' | 'offline';

export interface TunnelStatus {
  state: TunnelState;
  /** True once a relay URL is known (configured with `relay/configure` or the CLI). */
  configured: boolean;
  relayUrl?: string;
  /** The tunnel's assigned hostname, e.g. "small-fire-20477.example.com". */
  hostname?: string;
  /** Public base URL of the assigned hostname, e.g. "https://small-fire-20477.example.com/". */
  url?: string;
  /** Why the tunnel is offline or reconnecting (relay refusal message, network error). */
  reason?: string;
  /** For offline/connecting states caused by a refusal: what the relay said, machine-readable. */
  errorCode?: RpcErrorCode;
  /** Epoch milliseconds of the next reconnect attempt, while connecting after a loss. */
  nextAttemptAt?: number;
}

export type FirewallAction = 'allow' | 'drop';

export interface FirewallRule {
  action: FirewallAction;
  /** An IPv4/IPv6 address or CIDR network, e.g. "127.0.0.1" or "10.0.0.0/8". */
  network: string;
}

export type HttpRouteKind = 'proxy' | 'webroot' | 'passthrough';

export interface HttpRoute {
  /** Lower-case domain the route answers for. */
  domain: string;
  /** Public URL of the route. */
  url: string;
  kind: HttpRouteKind;
  /** Destination address for proxy and passthrough routes, e.g. "127.0.0.1". */
  destination?: string;
  /** Plain-HTTP destination port. */
  httpPort?: number;
  /** TLS destination port (passthrough). */
  tlsPort?: number;
  /** Directory served by a webroot route. */
  webroot?: string;
  tls?: 'none' | 'acme' | 'custom' | 'passthrough';
  redirectToHttps?: boolean;
  firewall: FirewallRule[];
  /** Why the relay refused to serve this route (its domain, a rule), while the tunnel is online. */
  rejected?: string;
}

export interface TcpPortRoute {
  /** Public port on the relay. */
  port: number;
  /** Public address, e.g. "example.com:22001". */
  address: string;
  destination?: string;
  destinationPort?: number;
  firewall: FirewallRule[];
  /** Why the relay refused to serve this port, while the tunnel is online. */
  rejected?: string;
}

export interface RouteList {
  http: HttpRoute[];
  tcp: TcpPortRoute[];
}

/** Names one route: an HTTP route by domain or a TCP port by number. */
export type RouteRef = { kind: 'http'; domain: string } | { kind: 'tcp'; port: number };

export interface ListeningPort {
  port: number;
  /** Local address it is bound to, e.g. "127.0.0.1", "0.0.0.0", "::". */
  address: string;
  family: 4 | 6;
  pid?: number;
  /** Process name (from /proc/<pid>/comm) when the OS lets us read it. */
  process?: string;
}

export interface ConnectionInfo {
  /** Unique within one agent run. */
  id: string;
  route: RouteRef;
  /** The public client's address as the relay saw it. */
  clientAddress: string;
  clientPort?: number;
  /** Epoch milliseconds. */
  openedAt: number;
  /** Bytes from the client to the local service. */
  bytesIn: number;
  /** Bytes from the local service to the client. */
  bytesOut: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

// ---------------------------------------------------------------------------------------------
// Errors: JSON-RPC error codes the agent uses, each with a clear next step on the extension side.

export const RpcErrorCode = {
  /** No relay URL configured yet. */
  NotConfigured: 1001,
  /** The relay could not be reached (DNS, refused, TLS, timeout). */
  RelayUnreachable: 1002,
  /** The relay refused the token / auth key. */
  Unauthorized: 1003,
  /** The requested hostname or domain belongs to someone else. */
  NameTaken: 1004,
  /** Nothing is listening on the destination port. */
  PortNotListening: 1005,
  /** The route, port or rule named does not exist. */
  NotFound: 1006,
  /** Invalid parameters (bad domain, CIDR, port…); the message says which. */
  InvalidArgument: 1007,
  /** A limit on the relay (tunnels, ports) or no free port in the range. */
  LimitReached: 1008,
  /** The operation needs an online tunnel. */
  NotConnected: 1009,
  /** The relay runs another protocol version. */
  VersionMismatch: 1010,
  /** The agent does not support this yet. */
  Unsupported: 1011,
  /** Another agent of the same identity (another VS Code window, a `portway` process) took the tunnel over. */
  Replaced: 1012,
} as const;
export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode];

/** The `data` of a ResponseError sent by the agent. */
export interface RpcErrorData {
  code: RpcErrorCode;
}

export function isRpcErrorCode(value: unknown): value is RpcErrorCode {
  return typeof value === 'number' && (Object.values(RpcErrorCode) as number[]).includes(value);
}

// ---------------------------------------------------------------------------------------------
// Requests (extension → agent)

export namespace InitializeRequest {
  export const method = 'agent/initialize' as const;
  export interface Params {
    /** The extension's RPC_PROTOCOL_VERSION. */
    protocolVersion: number;
    client: string;
  }
  export interface Result {
    protocolVersion: number;
    agentVersion: string;
    pid: number;
    configPath: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace TunnelStatusRequest {
  export const method = 'tunnel/status' as const;
  export const type = new RequestType0<TunnelStatus, void>(method);
}

export namespace TunnelStartRequest {
  export const method = 'tunnel/start' as const;
  export interface Params {
    /** Resolve once online or after the first failure (default true); otherwise at once. */
    waitForOnline?: boolean;
    /** Upper bound for waitForOnline, milliseconds (default 15000). */
    timeoutMs?: number;
  }
  export const type = new RequestType<Params, TunnelStatus, void>(method);
}

export namespace TunnelStopRequest {
  export const method = 'tunnel/stop' as const;
  export const type = new RequestType0<TunnelStatus, void>(method);
}

export namespace RelayConfigureRequest {
  export const method = 'relay/configure' as const;
  export interface Params {
    relayUrl: string;
    /** AUTH_KEY or per-user token. Held by the extension in SecretStorage. */
    token?: string;
    /** A hostname label to ask for when none is assigned yet. */
    hostname?: string;
    /** Connect once to check the URL and token and learn the hostname (default true). */
    verify?: boolean;
  }
  export const type = new RequestType<Params, TunnelStatus, void>(method);
}

export namespace RouteListRequest {
  export const method = 'route/list' as const;
  export const type = new RequestType0<RouteList, void>(method);
}

export namespace RouteAddRequest {
  export const method = 'route/add' as const;
  export interface Params {
    /**
     * A full domain, or a single label taken as a subdomain of the assigned hostname.
     * Omitted: the assigned hostname itself.
     */
    domain?: string;
    /** Default "127.0.0.1". */
    destination?: string;
    /** Local HTTP port to proxy to (a proxy route). */
    httpPort?: number;
    /** Directory to serve (a webroot route), instead of httpPort. */
    webroot?: string;
    /** Rewrite Host to the destination (default true). */
    hostRewrite?: boolean;
    /** Refuse with PortNotListening when nothing listens on destination:httpPort (default true). */
    requireListening?: boolean;
  }
  export const type = new RequestType<Params, HttpRoute, void>(method);
}

export namespace RouteRemoveRequest {
  export const method = 'route/remove' as const;
  export interface Params {
    domain: string;
  }
  export const type = new RequestType<Params, void, void>(method);
}

export namespace TcpAllocateRequest {
  export const method = 'tcp/allocate' as const;
  export interface Params {
    /** Forward the new port to this local address (default "127.0.0.1" when destinationPort is set). */
    destination?: string;
    destinationPort?: number;
  }
  export const type = new RequestType<Params, TcpPortRoute, void>(method);
}

export namespace TcpForwardRequest {
  export const method = 'tcp/forward' as const;
  export interface Params {
    port: number;
    destination?: string;
    destinationPort: number;
  }
  export const type = new RequestType<Params, TcpPortRoute, void>(method);
}

export namespace TcpReleaseRequest {
  export const method = 'tcp/release' as const;
  export interface Params {
    port: number;
  }
  export const type = new RequestType<Params, void, void>(method);
}

export namespace FirewallAddRequest {
  export const method = 'firewall/add' as const;
  export interface Params {
    route: RouteRef;
    rule: FirewallRule;
  }
  /** The route's rules after the change. */
  export const type = new RequestType<Params, FirewallRule[], void>(method);
}

export namespace FirewallRemoveRequest {
  export const method = 'firewall/remove' as const;
  export interface Params {
    route: RouteRef;
    rule: FirewallRule;
  }
  export const type = new RequestType<Params, FirewallRule[], void>(method);
}

export namespace ListeningPortsRequest {
  export const method = 'ports/listening' as const;
  export const type = new RequestType0<ListeningPort[], void>(method);
}

export namespace ConnectionListRequest {
  export const method = 'connection/list' as const;
  export const type = new RequestType0<ConnectionInfo[], void>(method);
}

// ---------------------------------------------------------------------------------------------
// Notifications (agent → extension)

export namespace TunnelDidChangeStateNotification {
  export const method = 'tunnel/didChangeState' as const;
  export const type = new NotificationType<TunnelStatus>(method);
}

export namespace RouteDidChangeNotification {
  export const method = 'route/didChange' as const;
  export const type = new NotificationType<RouteList>(method);
}

export namespace ConnectionDidOpenNotification {
  export const method = 'connection/didOpen' as const;
  export const type = new NotificationType<ConnectionInfo>(method);
}

/** A connection's byte counts so far (see ConnectionInfo for the directions). */
export interface ConnectionBytes {
  id: string;
  bytesIn: number;
  bytesOut: number;
}

/**
 * Byte counts of open connections while they are open, so a long download or a WebSocket can be
 * watched growing. Sent about once a second, only while a connection is open and only when some
 * count changed; one message lists every connection that changed since the last one. The final
 * counts come with connection/didClose.
 */
export namespace ConnectionDidUpdateNotification {
  export const method = 'connection/didUpdate' as const;
  export interface Params {
    connections: ConnectionBytes[];
  }
  export const type = new NotificationType<Params>(method);
}

export namespace ConnectionDidCloseNotification {
  export const method = 'connection/didClose' as const;
  export interface Params {
    id: string;
    bytesIn: number;
    bytesOut: number;
    /** Epoch milliseconds. */
    closedAt: number;
    /** Set when the stream ended with an error (reset, origin unreachable, firewall). */
    error?: string;
  }
  export const type = new NotificationType<Params>(method);
}

export namespace LogDidWriteNotification {
  export const method = 'log/didWrite' as const;
  export interface Params {
    level: LogLevel;
    message: string;
    /** Epoch milliseconds. */
    time: number;
  }
  export const type = new NotificationType<Params>(method);
}
