import type { Readable } from 'node:stream';
import { HeadReader } from '../protocol/stream-head';

/**
 * Reads one length-prefixed head from the start of a stream and leaves the stream
 * paused right after it (the rest unshifted), ready to be piped.
 */
export function readHead(stream: Readable): Promise<unknown> {
  return new Promise((resolve, reject) => {
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
        return reject(err);
      }
      if (!result) return;
      cleanup();
      stream.pause();
      if (result.rest.length > 0) stream.unshift(result.rest);
      resolve(result.json);
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('stream ended before its head'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}
