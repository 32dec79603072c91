import { randomBytes } from 'node:crypto';
import { RpcErrorCode, type RelayConfigureRequest } from '../../../protocol/rpc';
import type { AgentConfig } from '../config/schema';
import { connectToRelay } from '../tunnel/relay-connection';
import { connectUrl } from '../tunnel/relay-url';
import { AGENT_NAME } from '../version';
import { AgentCoreError } from './agent-core';
import { coded } from './coded-errors';

/** Whether `relay/configure` would change nothing: same relay, same token, a hostname it already fits. */
export function isSameRelaySetup(existing: AgentConfig | undefined, params: RelayConfigureRequest.Params): boolean {
  const sameRelay = existing?.relay.url === params.relayUrl;
  const sameToken = (existing?.relay.token ?? undefined) === (params.token ?? undefined);
  return Boolean(existing?.hostname && sameRelay && sameToken && (!params.hostname || existing.hostname.startsWith(`${params.hostname}.`)));
}

/** An InvalidArgument for a relay URL the agent cannot connect to, before anything is written. */
export function checkRelayUrl(relayUrl: string): void {
  try {
    connectUrl(relayUrl);
  } catch (err) {
    throw coded(err);
  }
}

/** The config `relay/configure` writes: the new relay, this agent's identity and routes kept. */
export function relaySetupConfig(existing: AgentConfig | undefined, params: RelayConfigureRequest.Params): AgentConfig {
  const sameRelay = existing?.relay.url === params.relayUrl;
  return {
    version: 1,
    relay: { url: params.relayUrl, token: params.token },
    identity: existing?.identity ?? randomBytes(32).toString('base64url'),
    hostname: sameRelay && !params.hostname ? existing?.hostname : undefined,
    acmeDirectory: existing?.acmeDirectory,
    http: existing?.http ?? [],
    tcp: existing?.tcp ?? [],
  };
}

/** Logs in once (a tunnel session, closed at once) and returns the hostname the relay assigns. */
export async function verifyWithRelay(config: AgentConfig, requestedHostname: string | undefined): Promise<string> {
  try {
    const connection = await connectToRelay({
      relayUrl: config.relay.url,
      identity: config.identity,
      auth: config.relay.token,
      requestedHostname,
      agentName: AGENT_NAME,
    });
    connection.mux.close('configured');
    return connection.welcome.hostname;
  } catch (err) {
    const c = coded(err);
    if (c instanceof AgentCoreError) throw c;
    throw new AgentCoreError(RpcErrorCode.RelayUnreachable, (err as Error).message);
  }
}
