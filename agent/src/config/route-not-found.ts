import { UsageError } from './usage-error';

/** An edit named a route this config does not have (the RPC sends it as NotFound). */
export class RouteNotFoundError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'RouteNotFoundError';
  }
}
