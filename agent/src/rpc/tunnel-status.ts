import { RpcErrorCode, type TunnelStatus } from '../../../protocol/rpc';
import { publicUrl } from '../config/public-address';
import type { AgentConfig } from '../config/schema';
import type { TunnelState } from '../tunnel/tunnel-client';
import { rpcCodeForRefusal } from './coded-errors';

/** A fatal refusal, kept so the status can still name its code after the runtime gave up. */
export interface LastRefusal {
  code: RpcErrorCode;
  message: string;
}

/** The extension's TunnelStatus, from the config file and the runtime's tunnel state (none: not running). */
export function tunnelStatusOf(config: AgentConfig | undefined, state: TunnelState | undefined, lastRefusal: LastRefusal | undefined): TunnelStatus {
  if (!config) return { state: 'stopped', configured: false };
  const hostname = config.hostname;
  const base: TunnelStatus = {
    state: 'stopped',
    configured: true,
    relayUrl: config.relay.url,
    hostname,
    url: hostname ? publicUrl(config.relay.url, hostname) : undefined,
  };
  if (!state) return lastRefusal ? { ...base, state: 'offline', reason: lastRefusal.message, errorCode: lastRefusal.code } : base;
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
