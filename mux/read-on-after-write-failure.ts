import type { Socket } from 'node:net';

type WriteCallback = (err?: Error | null) => void;

/** The two methods through which a net.Socket's Writable writes (stream implementers' API). */
interface SocketWrites {
  _write(chunk: Buffer, encoding: BufferEncoding, callback: WriteCallback): void;
  _writev?(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: WriteCallback): void;
}

/**
 * A peer that closes while we still write to it (an origin that answers an upload early, then
 * closes with the upload unread) fails our next write (EPIPE, ECONNRESET). Node destroys a socket
 * whose write failed, and its answer, still unread in the kernel, is lost with it (issue 19.5:
 * an early 413 became a 502 whenever the write came before the read). Here a failed write ends
 * only the writing: `onFailed` is told once, that write and every later one are reported done and
 * dropped, and the socket reads on until the peer's end or a read error.
 */
export function readOnAfterWriteFailure(socket: Socket, onFailed: (err: Error) => void): void {
  const writes = socket as unknown as SocketWrites;
  const write = writes._write;
  const writev = writes._writev;
  let failed = false;
  // Writable passes the same callback (its state's onwrite) to every _write: one wrapper is kept.
  let wrapped: WriteCallback | undefined;
  let wrapper: WriteCallback | undefined;
  const settle = (callback: WriteCallback): WriteCallback => {
    if (callback === wrapped) return wrapper!;
    wrapped = callback;
    wrapper = (err) => {
      if (err && !failed) {
        failed = true;
        onFailed(err);
      }
      callback();
    };
    return wrapper;
  };
  writes._write = (chunk, encoding, callback) => (failed ? callback() : write.call(socket, chunk, encoding, settle(callback)));
  if (writev) writes._writev = (chunks, callback) => (failed ? callback() : writev.call(socket, chunks, settle(callback)));
}
