import { publicTcpAddress } from '../config/public-address';
import type { AgentConfig } from '../config/schema';
import { isForwarded } from '../config/tcp-routes';
import { routeKind } from '../serve/route-table';
import { renderTable } from './table';
import { formatHostPort } from '../../../common/net/host-port';

/** The HTTP routes table shared by `info`, `start` and `route http ls`. */
export function httpRoutesTable(config: AgentConfig): string {
  const rows = config.http.map((r) => [
    r.domain,
    routeKind(r),
    r.webroot ? r.webroot : r.destination ?? '--',
    r.http ? String(r.http) : '--',
    r.tls ? String(r.tls) : '--',
    r.letsencrypt ? 'letsencrypt' : r.ca ? 'custom cert' : r.tls ? 'passthrough' : 'none',
    r.redirect ? 'yes' : 'no',
    String(r.firewall.length),
  ]);
  if (rows.length === 0 && config.hostname) rows.push([config.hostname, 'built-in test page', '--', '--', '--', 'none', 'no', '0']);
  return renderTable(['Domain', 'Kind', 'Destination', 'HTTP', 'TLS', 'TLS at agent', 'Redirect', 'Firewall'], rows);
}

/** The TCP ports table shared by `info`, `start` and `route tcp ls`. */
export function tcpPortsTable(config: AgentConfig): string {
  const rows = config.tcp.map((t) => [
    String(t.port),
    publicTcpAddress(config.relay.url, config.hostname, t.port),
    isForwarded(t) ? formatHostPort(t.destination, t.dstport) : '-- (not forwarded)',
    String(t.firewall.length),
  ]);
  return renderTable(['Port', 'Public address', 'Destination', 'Firewall'], rows);
}
