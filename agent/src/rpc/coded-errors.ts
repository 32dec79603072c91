import { UsageError } from '../config/usage-error';
import { DestinationError } from '../config/destination';
import { RouteNotFoundError } from '../config/route-not-found';
import { TcpPortError } from '../config/tcp-routes';
import { RelayRefusedError } from '../tunnel/relay-connection';
import { RelayUrlError } from '../tunnel/relay-url';
import { RpcErrorCode } from '../../../protocol/rpc';
import { AgentCoreError } from './agent-core';
import { TCP_RPC_CODES } from './tcp-error-codes';

/** The agent's own errors, turned into the coded errors the extension shows with a next step. */

const REFUSAL_CODES: Record<string, RpcErrorCode> = {
  unauthorized: RpcErrorCode.Unauthorized,
  'hostname-taken': RpcErrorCode.NameTaken,
  'version-mismatch': RpcErrorCode.VersionMismatch,
  'limit-reached': RpcErrorCode.LimitReached,
  'bad-request': RpcErrorCode.InvalidArgument,
  replaced: RpcErrorCode.Replaced,
};

/** The extension's error code for a relay refusal (a wrong token, a taken name…) or a take-over. */
export function rpcCodeForRefusal(code: string | undefined): RpcErrorCode | undefined {
  return code === undefined ? undefined : REFUSAL_CODES[code] ?? RpcErrorCode.InvalidArgument;
}

/** The config edits' and the tunnel's errors → coded errors for the extension. */
export function coded(err: unknown): unknown {
  if (err instanceof AgentCoreError) return err;
  if (err instanceof RouteNotFoundError) return new AgentCoreError(RpcErrorCode.NotFound, err.message);
  if (err instanceof UsageError || err instanceof RelayUrlError || err instanceof DestinationError) return new AgentCoreError(RpcErrorCode.InvalidArgument, (err as Error).message);
  if (err instanceof RelayRefusedError) return new AgentCoreError(REFUSAL_CODES[err.code] ?? RpcErrorCode.InvalidArgument, err.message);
  if (err instanceof TcpPortError) return new AgentCoreError(TCP_RPC_CODES[err.code], err.message);
  return err;
}

/** Like coded(), for requests to the relay: anything uncoded means it could not be reached. */
export function codedRelayError(err: unknown): AgentCoreError {
  const c = coded(err);
  return c instanceof AgentCoreError ? c : new AgentCoreError(RpcErrorCode.RelayUnreachable, (err as Error).message);
}

