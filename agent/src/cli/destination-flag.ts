import { normalizeDestination } from '../config/destination';
import { UsageError } from './args';

/** A --destination value, checked (an IP address or host name): a usage error when it is not. */
export function destinationFlag(text: string): string {
  try {
    return normalizeDestination(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
