import { splice } from '../../../common/splice';
import { connectFramed } from '../../../mux/framed-reader';
import type { MuxStream } from '../../../mux/stream';
import type { TcpOpen } from '../../../protocol/stream-head';
import type { AgentConfig } from '../config/schema';
import { isForwarded } from '../config/tcp-routes';
import { formatHostPort } from '../../../common/net/host-port';

/**
 * The agent's end of a TCP port: each stream the relay opens for a public connection is piped
 * to the port's destination (read from the current config, so a new forward applies to the next
 * connection). A port with no forward, or a destination that refuses, aborts the stream.
 */
export function createTcpForwardHandler(currentConfig: () => AgentConfig, log: (line: string) => void = () => undefined): (open: TcpOpen, stream: MuxStream) => void {
  return (open, stream) => {
    const route = currentConfig().tcp.find((t) => t.port === open.port);
    if (!route || !isForwarded(route)) {
      log(`tcp port ${open.port}: no forward configured; closing the connection from ${open.remoteAddress}`);
      return void stream.destroy();
    }
    // What the destination sends is read straight into mux frames (no copy of bulk data).
    const socket = connectFramed(stream, { host: route.destination, port: route.dstport, allowHalfOpen: true, noDelay: true });
    let connected = false;
    socket.once('connect', () => (connected = true));
    const onError = (err: Error): void => {
      if (!connected) log(`tcp port ${open.port}: cannot reach ${formatHostPort(route.destination, route.dstport)} (${err.message})`);
    };
    splice(socket, stream, onError, { socketReadsItself: true });
  };
}
