/** What the status-bar item shows for a tunnel status. No `vscode` import (unit-tested). */
import { RpcErrorCode, type TunnelStatus } from '../../../protocol/rpc';

export interface StatusView {
  text: string;
  tooltip: string;
  warning: boolean;
}

/** A few words for the status bar; the whole reason goes in the tooltip. */
export function shortReason(status: TunnelStatus): string {
  const reason = status.reason ?? '';
  if (status.errorCode === RpcErrorCode.Unauthorized) return 'token refused';
  if (status.errorCode === RpcErrorCode.Replaced) return 'taken over by another window';
  if (status.errorCode === RpcErrorCode.VersionMismatch) return 'version mismatch';
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|cannot reach|unreachable/i.test(reason)) return 'relay unreachable';
  if (!reason) return 'disconnected';
  return reason.length > 28 ? `${reason.slice(0, 27)}…` : reason;
}

/** "14:05:09": when the next attempt is due (the text does not tick, so no countdown). */
function clockTime(epochMs: number): string {
  return new Date(epochMs).toTimeString().slice(0, 8);
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
      const retry = status.nextAttemptAt ? `retrying at ${clockTime(status.nextAttemptAt)}` : 'not retrying';
      return { text: `$(warning) Portway offline: ${shortReason(status)}`, tooltip: `Portway is offline: ${reason}\n${retry}\nClick for Retry Now and other options.`, warning: true };
    }
    case 'stopped':
      return {
        text: '$(debug-disconnect) Portway',
        tooltip: status.configured ? `Not sharing. Relay: ${status.relayUrl}. Click to start or share a port.` : 'Portway: no relay configured. Click to share a port.',
        warning: false,
      };
  }
}
