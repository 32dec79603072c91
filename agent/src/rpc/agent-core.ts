/**
 * What the JSON-RPC server drives: the agent's tunnel, routes and rules, seen through the
 * shapes of protocol/rpc.ts. The real implementation adapts the agent core (config + tunnel);
 * tests use a fake. The server only translates JSON-RPC to these calls and events back.
 */
import type {
  ConnectionDidBlockNotification,
  ConnectionDidCloseNotification,
  ConnectionDidUpdateNotification,
  ConnectionInfo,
  CapturedRequest,
  FirewallRule,
  HttpRoute,
  InspectConfigureRequest,
  InspectDidChangeNotification,
  InspectReplayRequest,
  LogDidWriteNotification,
  RelayConfigureRequest,
  RequestSummary,
  RouteAddRequest,
  RouteList,
  RouteRef,
  RpcErrorCode,
  TcpAllocateRequest,
  TcpForwardRequest,
  TcpPortRoute,
  TunnelStartRequest,
  TunnelStatus,
} from '../../../protocol/rpc';

/** A failure with a code the extension can turn into a message with a next step. */
export class AgentCoreError extends Error {
  constructor(
    readonly code: RpcErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AgentCoreError';
  }
}

export type AgentCoreEvent =
  | { type: 'state'; status: TunnelStatus }
  | { type: 'routes'; routes: RouteList }
  | { type: 'connectionOpen'; connection: ConnectionInfo }
  | { type: 'connectionUpdate'; update: ConnectionDidUpdateNotification.Params }
  | { type: 'connectionClose'; close: ConnectionDidCloseNotification.Params }
  | { type: 'log'; entry: LogDidWriteNotification.Params }
  | { type: 'inspect'; change: InspectDidChangeNotification.Params }
  | { type: 'blocked'; blocked: ConnectionDidBlockNotification.Params };

export interface Disposable {
  dispose(): void;
}

export interface AgentCore {
  readonly configPath: string;
  readonly version: string;
  status(): TunnelStatus;
  /** Starts (or keeps) the tunnel; with waitForOnline resolves once online or after the first failure. */
  start(params: TunnelStartRequest.Params): Promise<TunnelStatus>;
  stop(): Promise<TunnelStatus>;
  configureRelay(params: RelayConfigureRequest.Params): Promise<TunnelStatus>;
  listRoutes(): Promise<RouteList>;
  addHttpRoute(params: RouteAddRequest.Params): Promise<HttpRoute>;
  removeHttpRoute(domain: string): Promise<void>;
  allocateTcpPort(params: TcpAllocateRequest.Params): Promise<TcpPortRoute>;
  forwardTcpPort(params: TcpForwardRequest.Params): Promise<TcpPortRoute>;
  releaseTcpPort(port: number): Promise<void>;
  addFirewallRule(route: RouteRef, rule: FirewallRule): Promise<FirewallRule[]>;
  removeFirewallRule(route: RouteRef, rule: FirewallRule): Promise<FirewallRule[]>;
  listConnections(): ConnectionInfo[];
  configureInspector(params: InspectConfigureRequest.Params): void;
  listRequests(): RequestSummary[];
  getRequest(id: number): CapturedRequest;
  replayRequest(params: InspectReplayRequest.Params): Promise<CapturedRequest>;
  clearRequests(): void;
  onEvent(listener: (event: AgentCoreEvent) => void): Disposable;
  /** Stops the tunnel and frees everything; called when the RPC connection ends. */
  dispose(): Promise<void>;
}
