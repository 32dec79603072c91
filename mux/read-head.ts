import type { Readable } from 'node:stream';
import { HeadReader } from '../protocol/stream-head';

/**
 * Reads one length-prefixed head from the start of a stream and leaves the stream
 * paused right after it (the rest unshifted), ready to be piped. Callback style: it
 * runs once per request on the hot path, so no promise is allocated.
 */
export function readHead(stream: Readable, done: (err: Error | null, json?: unknown) => void): void {
  const reader = new HeadReader();
  const cleanup = () => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.off('close', onEnd);
  };
  const onData = (chunk: Buffer) => {
    let result;
    try {
      result = reader.push(chunk);
    } catch (err) {
      cleanup();
      stream.destroy();
      return done(err as Error);
    }
    if (!result) return;
    cleanup();
    stream.pause();
    if (result.rest.length > 0) stream.unshift(result.rest);
    done(null, result.json);
  };
  const onEnd = () => {
    cleanup();
    done(new Error('stream ended before its head'));
  };
  const onError = (err: Error) => {
    cleanup();
    done(err);
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  stream.on('error', onError);
}
