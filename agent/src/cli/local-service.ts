import * as net from 'node:net';
import type { CommandContext } from './command';

/** How long the start-up check waits for the local service before warning that nothing answers. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * A warning, not an error, when nothing accepts connections on host:port: the service may well
 * start after the tunnel (`consequence` says what visitors meet meanwhile).
 */
export async function warnIfNothingListens(ctx: CommandContext, host: string, port: number, consequence: string): Promise<void> {
  if (!(await accepts(host, port))) ctx.err(`portway: nothing answers on ${host}:${port} yet; ${consequence}`);
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
