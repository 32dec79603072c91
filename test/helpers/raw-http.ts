import * as net from 'node:net';

export interface RawResponse {
  /** Status of the first response, 0 when none came. */
  status: number;
  text: string;
}

/** Writes `bytes` as is on a new connection and collects everything until the relay closes it. */
export function rawExchange(port: number, bytes: string | Buffer, options: { localAddress?: string; host?: string; endAfterWrite?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: options.host ?? '127.0.0.1', localAddress: options.localAddress }, () => {
      if (options.endAfterWrite) socket.end(bytes);
      else socket.write(bytes);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
}
