/**
 * Input a person typed (a flag, a domain, a network) that cannot be used, with a message that
 * says why. Thrown by the config edits both front ends share: the CLI prints it, the RPC server
 * sends it as an InvalidArgument.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
