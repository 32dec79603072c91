import { RpcErrorCode } from '../../../protocol/rpc';
import type { TcpPortProblem } from '../config/tcp-routes';

/** How the extension hears of each TCP port problem (TcpPortError.code). */
export const TCP_RPC_CODES: Record<TcpPortProblem, RpcErrorCode> = {
  'invalid-port': RpcErrorCode.InvalidArgument,
  'invalid-destination': RpcErrorCode.InvalidArgument,
  'not-allocated': RpcErrorCode.NotFound,
  'not-yours': RpcErrorCode.NotFound,
  taken: RpcErrorCode.NameTaken,
  'none-free': RpcErrorCode.LimitReached,
  'limit-reached': RpcErrorCode.LimitReached,
  disabled: RpcErrorCode.Unsupported,
};
