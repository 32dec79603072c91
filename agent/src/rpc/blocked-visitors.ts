/** The relay's VisitorsBlocked message as the extension's ConnectionDidBlock notification. */
import type { VisitorsBlocked } from '../../../protocol/control';
import type { ConnectionDidBlockNotification, RouteRef } from '../../../protocol/rpc';

/** "tcp 22001" (routeResultName) → a TCP port; anything else is an HTTP route's domain. */
function routeRefOf(name: string): RouteRef {
  const tcp = /^tcp (\d+)$/.exec(name);
  return tcp ? { kind: 'tcp', port: Number(tcp[1]) } : { kind: 'http', domain: name };
}

export function blockedVisitorsOf(message: VisitorsBlocked): ConnectionDidBlockNotification.Params {
  return { visitors: message.visitors.map((v) => ({ route: routeRefOf(v.route), clientAddress: v.clientAddress, count: v.count, lastAt: v.lastAt })) };
}
