/**
 * A TCP proxy that records every byte between agent and relay, and decodes the WebSocket inside
 * (masking removed), so a test can tell what the relay↔agent link carried in the clear.
 */
import * as net from 'node:net';

export interface RecordingProxy {
  url: string;
  /** All WebSocket payload bytes that went relay → agent and agent → relay, unmasked. */
  payloads(): { toAgent: Buffer; toRelay: Buffer };
  /** The bytes on the wire, both directions. */
  raw(): Buffer;
  close(): Promise<void>;
}

/** Payloads of the WebSocket frames after the HTTP upgrade head; an unfinished last frame is left out. */
export function websocketPayloads(wire: Buffer): Buffer {
  const headEnd = wire.indexOf('\r\n\r\n');
  if (headEnd < 0) return Buffer.alloc(0);
  const out: Buffer[] = [];
  let at = headEnd + 4;
  while (at + 2 <= wire.length) {
    const masked = (wire[at + 1] & 0x80) !== 0;
    let length = wire[at + 1] & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (offset + 2 > wire.length) break;
      length = wire.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (offset + 8 > wire.length) break;
      length = Number(wire.readBigUInt64BE(offset));
      offset += 8;
    }
    const mask = masked ? wire.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (offset + length > wire.length) break;
    const payload = Buffer.from(wire.subarray(offset, offset + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
    out.push(payload);
    at = offset + length;
  }
  return Buffer.concat(out);
}

export async function startRecordingProxy(targetPort: number): Promise<RecordingProxy> {
  const toAgent: Buffer[][] = [];
  const toRelay: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const down: Buffer[] = [];
    const up: Buffer[] = [];
    toAgent.push(down);
    toRelay.push(up);
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => up.push(Buffer.from(chunk)));
    upstream.on('data', (chunk: Buffer) => down.push(Buffer.from(chunk)));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    payloads: () => ({
      toAgent: Buffer.concat(toAgent.map((c) => websocketPayloads(Buffer.concat(c)))),
      toRelay: Buffer.concat(toRelay.map((c) => websocketPayloads(Buffer.concat(c)))),
    }),
    raw: () => Buffer.concat([...toAgent, ...toRelay].flat()),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
