import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { after, describe, it } from 'node:test';
import { splice } from '../../common/splice';

/** A loopback connection: the server's end is spliced, the client's end is the peer the test drives. */
async function connectedPair(): Promise<{ server: net.Server; spliced: net.Socket; peer: net.Socket }> {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const peer = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const [spliced] = await accepted;
  return { server, spliced, peer };
}

/** A stream whose readable side the test ends, as an agent's stream ends when its origin closes. */
function endableStream(): Duplex {
  return new Duplex({ allowHalfOpen: true, read() {}, write: (_chunk, _encoding, done) => done() });
}

describe('splice: a half-closed pipe ends once idle', () => {
  const servers: net.Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  it('destroys both sides when the other side ended and the peer stays silent for halfClosedIdleMs', { timeout: 10_000 }, async () => {
    const { server, spliced, peer } = await connectedPair();
    servers.push(server);
    const stream = endableStream();
    splice(spliced, stream, undefined, { halfClosedIdleMs: 200 });
    peer.on('error', () => undefined);
    const started = Date.now();
    stream.push(null); // the far side ended: the peer gets a FIN and never answers with its own
    await once(peer, 'end');
    await once(spliced, 'close');
    assert.ok(Date.now() - started >= 150, 'closed by the idle timer, not at once');
    assert.ok(stream.destroyed, 'the stream went with it');
  });
});
