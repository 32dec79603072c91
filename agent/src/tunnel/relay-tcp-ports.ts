import { ControlRequestError } from '../../../mux/control-channel';
import { parseTcpAnswer, TcpMethod, type TcpAllocation, type TcpErrorCode, type TcpPortList } from '../../../protocol/control-tcp';
import type { AgentConfig } from '../config/schema';
import { TcpPortError } from '../config/tcp-routes';
import { withControlSession } from './control-session';

const RELAY_CODES: readonly TcpErrorCode[] = ['invalid-port', 'none-free', 'taken', 'not-yours', 'limit-reached', 'disabled'];

/** The relay's coded answers become TcpPortErrors; anything else passes through. */
function translated(err: unknown): unknown {
  if (!(err instanceof ControlRequestError)) return err;
  if ((RELAY_CODES as readonly string[]).includes(err.code)) return new TcpPortError(err.code as TcpErrorCode, `the relay says: ${err.message}`);
  if (err.code === 'unknown-method') return new Error('this relay does not support TCP ports (upgrade it)');
  return err;
}

async function ask<T>(config: AgentConfig, method: string, params: object, parse: (value: unknown) => T): Promise<T> {
  try {
    return await withControlSession(config, async (control) => parse(await control.request(method, params)));
  } catch (err) {
    throw translated(err);
  }
}

/** tcp/* requests to the relay as this agent's identity, over a short control-mode session. */
export const relayTcpPorts = {
  /** A free port of the relay's range, or `port` itself. */
  allocate(config: AgentConfig, port?: number): Promise<TcpAllocation> {
    return ask(config, TcpMethod.Allocate, port === undefined ? {} : { port }, parseTcpAnswer.allocation);
  },
  release(config: AgentConfig, port: number): Promise<TcpAllocation> {
    return ask(config, TcpMethod.Release, { port }, parseTcpAnswer.allocation);
  },
  list(config: AgentConfig): Promise<TcpPortList> {
    return ask(config, TcpMethod.List, {}, parseTcpAnswer.list);
  },
};

/**
 * Releases the port on the relay. A port this config holds but the relay no longer knows (its
 * data dir was reset) counts as released: returns false then, true when the relay had it.
 */
export async function releaseOnRelay(config: AgentConfig, port: number): Promise<boolean> {
  try {
    await relayTcpPorts.release(config, port);
    return true;
  } catch (err) {
    const heldLocally = config.tcp.some((t) => t.port === port);
    if (heldLocally && err instanceof TcpPortError && err.code === 'not-yours') return false;
    throw err;
  }
}
