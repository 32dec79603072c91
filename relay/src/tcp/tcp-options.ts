/** The relay's TCP port range setting, parsed from the same flag map as the other serve options. */
import { DEFAULT_TCP_PORTS, PortRange, PortRangeError } from './port-range';

export const TCP_VALUE_FLAGS = ['tcp-ports'] as const;

export const TCP_HELP = `  --tcp-ports A-B     range agents allocate TCP ports from, or "off"    [TCP_PORTS] (default ${DEFAULT_TCP_PORTS})
                      (listened on at --host, each port only while its agent is connected)
`;

type Env = Record<string, string | undefined>;

/**
 * The TCP port range (undefined when "off"); it may not contain the relay's own ports.
 * Throws (via makeError) a message meant for the user.
 */
export function parseTcpPorts(flags: Map<string, string>, env: Env, ownPorts: (number | undefined)[], makeError: (message: string) => Error): PortRange | undefined {
  const text = flags.get('tcp-ports') ?? (env.TCP_PORTS || DEFAULT_TCP_PORTS);
  let range: PortRange | undefined;
  try {
    range = PortRange.parse(text);
  } catch (err) {
    if (err instanceof PortRangeError) throw makeError(err.message);
    throw err;
  }
  const clash = ownPorts.find((port) => port !== undefined && port !== 0 && range?.includes(port));
  if (range && clash !== undefined) throw makeError(`--tcp-ports ${range} contains the relay's own port ${clash}; pick a range that does not`);
  return range;
}
