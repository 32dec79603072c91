import { formatHostPort } from '../../../common/net/host-port';
import { DEFAULT_INSPECT_ADDRESS } from '../../../protocol/inspect';
import { UsageError } from '../config/usage-error';
import { InspectServer } from '../inspect/inspect-server';
import { parseListenAddress } from '../inspect/listen-address';
import type { AgentRuntime } from '../runtime/agent-runtime';
import type { FlagSpec, ParsedFlags } from './args';

/** `--inspect [ADDR]` of `portway http` and `portway start`. */
export const inspectFlag: FlagSpec = {
  name: 'inspect',
  type: 'string',
  placeholder: 'ADDR',
  defaultValue: DEFAULT_INSPECT_ADDRESS,
  description: `capture every request and serve a local inspector page with replay (default ${DEFAULT_INSPECT_ADDRESS})`,
};

/** Turns the runtime's inspector on and serves its page when --inspect was given; returns the page's server and URL. */
export async function serveInspectorIfAsked(flags: ParsedFlags, runtime: AgentRuntime): Promise<{ server: InspectServer; url: string } | undefined> {
  if (flags.inspect === undefined) return undefined;
  const at = parseListenAddress(flags.inspect as string);
  const server = new InspectServer(runtime.inspect(), (domain) => runtime.handlerFor(domain));
  try {
    return { server, url: await server.listen(at.host, at.port) };
  } catch (err) {
    throw new UsageError(`--inspect cannot listen on ${formatHostPort(at.host, at.port)}: ${(err as Error).message}`);
  }
}

export function inspectorLine(url: string): string {
  return `Inspector  ${url} (API: ${url}api/requests)`;
}
