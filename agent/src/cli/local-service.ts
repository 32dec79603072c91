import { isListening } from '../serve/port-probe';
import type { CommandContext } from './command';

/**
 * A warning, not an error, when nothing accepts connections on host:port: the service may well
 * start after the tunnel (`consequence` says what visitors meet meanwhile).
 */
export async function warnIfNothingListens(ctx: CommandContext, host: string, port: number, consequence: string): Promise<void> {
  if (!(await isListening(host, port))) ctx.err(`portway: nothing answers on ${host}:${port} yet; ${consequence}`);
}
