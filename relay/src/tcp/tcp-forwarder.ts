import type { Socket } from 'node:net';
import { normalizeAddress } from '../../../common/net/client-address';
import { splice } from '../../../common/splice';
import { encodeHead, type TcpOpen } from '../../../protocol/stream-head';
import { routeResultName } from '../../../protocol/control';
import { counters } from '../admin/counters';
import type { AgentSession } from '../agent-session';

/**
 * One public connection to an allocated port. The port's firewall (as the agent announced it)
 * decides first: a dropped client, or a port the agent announced no forward for, is closed at
 * once, before any byte reaches the agent. Otherwise a stream opens with a TcpOpen head and raw
 * bytes flow both ways, half-closes included (after one, the rest ends within the idle timeout).
 */
export function forwardTcpConnection(socket: Socket, session: AgentSession, port: number, idleTimeoutMs?: number): 'forwarded' | 'not-announced' | 'dropped' {
  const clientAddress = normalizeAddress(socket.remoteAddress ?? '');
  const firewall = session.routes.tcpFirewall(port);
  if (!firewall) {
    socket.destroy();
    return 'not-announced';
  }
  if (!firewall.allows(clientAddress)) {
    counters.firewallRefusals++;
    session.reportBlocked(routeResultName({ kind: 'tcp', port }), clientAddress);
    socket.destroy();
    return 'dropped';
  }
  socket.setNoDelay(true);
  counters.tcpConnections++;
  const stream = session.openStream(clientAddress);
  const open: TcpOpen = { kind: 'tcp', port, remoteAddress: clientAddress, remotePort: socket.remotePort ?? 0 };
  stream.write(encodeHead(open));
  splice(socket, stream, undefined, { halfClosedIdleMs: idleTimeoutMs });
  return 'forwarded';
}
