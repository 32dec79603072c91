import * as net from 'node:net';

const LISTEN_PROBE_TIMEOUT_MS = 1_500;

/** True when something accepts TCP connections on host:port. */
export function isListening(host: string, port: number, timeoutMs = LISTEN_PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

