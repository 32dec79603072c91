import type { ControlChannel } from '../../../mux/control-channel';
import type { RelayToAgent } from '../../../protocol/control';
import type { AgentConfig } from '../config/schema';
import { connectToRelay } from './relay-connection';
import { AGENT_NAME } from '../version';

/**
 * Runs CLI requests over a short control-mode session: it logs in as this agent's identity but
 * is not a tunnel, so a running `portway start` is not replaced.
 */
export async function withControlSession<T>(config: AgentConfig, work: (control: ControlChannel<RelayToAgent>) => Promise<T>): Promise<T> {
  const connection = await connectToRelay({
    relayUrl: config.relay.url,
    identity: config.identity,
    auth: config.relay.token,
    requestedHostname: config.hostname,
    agentName: AGENT_NAME,
    mode: 'control',
  });
  try {
    return await work(connection.control);
  } finally {
    connection.mux.close('done');
  }
}
