/**
 * Every command, view and context key the extension contributes, declared once. package.json's
 * `contributes` must list the same ids; a unit test checks both directions.
 */
export const Command = {
  SharePort: 'portway.sharePort',
  StopSharing: 'portway.stopSharing',
  StartTunnel: 'portway.startTunnel',
  ConfigureRelay: 'portway.configureRelay',
  RestartAgent: 'portway.restartAgent',
  ShowLog: 'portway.showLog',
  CopyUrl: 'portway.copyUrl',
  OpenUrl: 'portway.openUrl',
  StatusMenu: 'portway.statusMenu',
  AddRoute: 'portway.addRoute',
  RemoveRoute: 'portway.removeRoute',
  AllocateTcpPort: 'portway.allocateTcpPort',
  ReleaseTcpPort: 'portway.releaseTcpPort',
  AddAllowRule: 'portway.addAllowRule',
  AddDropRule: 'portway.addDropRule',
  RemoveFirewallRule: 'portway.removeFirewallRule',
  RefreshRoutes: 'portway.refreshRoutes',
  EditRoute: 'portway.editRoute',
  RetryNow: 'portway.retryNow',
  ForwardTcpPort: 'portway.forwardTcpPort',
  InspectRequests: 'portway.inspectRequests',
  ShowQrCode: 'portway.showQrCode',
} as const;
export type CommandId = (typeof Command)[keyof typeof Command];

export const View = {
  Container: 'portway',
  Routes: 'portway.routes',
  Connections: 'portway.connections',
} as const;

/** Context keys used in `when` clauses (views welcome content, menus). */
export const ContextKey = {
  Configured: 'portway.configured',
  HasRoutes: 'portway.hasRoutes',
  TunnelState: 'portway.tunnelState',
  AgentRunning: 'portway.agentRunning',
} as const;

/** Tree item contextValues, matched by `viewItem == …` in menus. */
export const ItemContext = {
  HttpRoute: 'httpRoute',
  TcpPort: 'tcpPort',
  /** An allocated TCP port that forwards nowhere yet (offers Forward…). */
  TcpPortUnforwarded: 'tcpPortUnforwarded',
  FirewallRule: 'firewallRule',
  Connection: 'connection',
  Request: 'request',
  Blocked: 'blockedVisitor',
} as const;

export const Setting = {
  Section: 'portway',
  RelayUrl: 'relayUrl',
  AutoStart: 'autoStart',
  OfferToShareNewPorts: 'offerToShareNewPorts',
  InspectorEnabled: 'inspector.enabled',
  InspectorMaxRequests: 'inspector.maxRequests',
  InspectorMaxMemoryMiB: 'inspector.maxMemoryMiB',
} as const;

/** SecretStorage key of the relay token (never written to settings.json). */
export const TOKEN_SECRET_KEY = 'portway.relayToken';
