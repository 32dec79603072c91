import { isListening } from '../serve/port-probe';

/**
 * Where "this machine's port N" is, when the user did not name an address (or said `localhost`):
 * many dev servers bind `localhost` to ::1 only, others to 127.0.0.1 only. Both loopbacks are
 * probed, as VS Code's own port forwarding does, and the one that answers is kept. When neither
 * answers yet, `localhost` is kept so the connection, made later, tries both (Node's happy eyeballs).
 */
export const LOOPBACK_NAME = 'localhost';
const LOOPBACKS = ['127.0.0.1', '::1'] as const;

export interface LocalDestination {
  destination: string;
  listening: boolean;
}

/** `requested` already normalised (lower case); undefined for "not given". */
export async function resolveLocalDestination(requested: string | undefined, port: number): Promise<LocalDestination> {
  if (requested !== undefined && requested !== LOOPBACK_NAME) return { destination: requested, listening: await isListening(requested, port) };
  const answers = await Promise.all(LOOPBACKS.map((host) => isListening(host, port)));
  const found = LOOPBACKS.find((_, i) => answers[i]);
  return found ? { destination: found, listening: true } : { destination: LOOPBACK_NAME, listening: false };
}
