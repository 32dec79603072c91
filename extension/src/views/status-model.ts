/** What the status-bar item shows for a tunnel status. No `vscode` import (unit-tested). */
import type { TunnelStatus } from '../../../protocol/rpc';

export interface StatusView {
  text: string;
  tooltip: string;
  warning: boolean;
}

/** Pure: what the item shows for a status. Exported for tests. */
export function statusView(status: TunnelStatus, agentDown = false): StatusView {
  if (agentDown) return { text: '$(error) Portway: agent stopped', tooltip: `The Portway agent stopped: ${status.reason ?? 'it crashed repeatedly'}. Click for options.`, warning: true };
  switch (status.state) {
    case 'connecting':
      return { text: '$(sync~spin) Portway: connecting…', tooltip: status.reason ? `Connecting to ${status.relayUrl ?? 'the relay'}: ${status.reason}` : `Connecting to ${status.relayUrl ?? 'the relay'}`, warning: false };
    case 'online':
      return { text: `$(radio-tower) ${status.hostname ?? 'online'}`, tooltip: `Portway is sharing at ${status.url ?? status.hostname}\nvia ${status.relayUrl}\nClick to copy, open or stop.`, warning: false };
    case 'offline': {
      const reason = status.reason ?? 'disconnected';
      const short = reason.length > 48 ? `${reason.slice(0, 47)}…` : reason;
      const retry = status.nextAttemptAt ? ' (retrying)' : '';
      return { text: `$(warning) Portway offline: ${short}${retry}`, tooltip: `Portway is offline: ${reason}${retry}\nClick for options.`, warning: true };
    }
    case 'stopped':
      return {
        text: '$(debug-disconnect) Portway',
        tooltip: status.configured ? `Not sharing. Relay: ${status.relayUrl}. Click to start or share a port.` : 'Portway: no relay configured. Click to share a port.',
        warning: false,
      };
  }
}
