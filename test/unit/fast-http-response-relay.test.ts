import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { lendView, type PayloadLease } from '../../mux/payload-lease';
import { ResponseRelay, type ResponseRelayOwner } from '../../relay/src/fast-http/response-relay';

/** A pooled buffer's holds, as the receive pool counts them (the reader's own hold is not modelled). */
class CountingLease implements PayloadLease {
  holds = 0;
  released = 0;
  retain(): void {
    this.holds++;
  }
  release(): void {
    this.holds--;
    this.released++;
  }
}

/** The visitor's socket: writes complete only when the test says so. */
class VisitorSocket {
  readonly written: Buffer[] = [];
  private readonly pending: ((err?: Error) => void)[] = [];
  corked = 0;
  write(bytes: Buffer, done?: (err?: Error) => void): boolean {
    this.written.push(Buffer.from(bytes));
    if (done) this.pending.push(done);
    return true;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    this.corked--;
  }
  completeWrites(): void {
    for (const done of this.pending.splice(0)) done();
  }
  get text(): string {
    return Buffer.concat(this.written).toString('latin1');
  }
}

function owner(methods: string[]): ResponseRelayOwner & { finishedResponses: number; switched: boolean; destroyed: boolean } {
  const state = {
    raw: false,
    finished: false,
    awaiting: methods,
    upgradeRequested: methods.length === 1 && methods[0] === 'GET-upgrade',
    finishedResponses: 0,
    switched: false,
    destroyed: false,
    switchedProtocols: () => {
      state.raw = true;
      state.switched = true;
    },
    closeAfterResponse: () => undefined,
    responseFinished: () => {
      state.finishedResponses++;
      methods.shift();
    },
    refuseUnsolicitedSwitch: () => assert.fail('unexpected refusal'),
    refuseBadResponse: (_method: string, reason: string) => assert.fail(`unexpected bad response: ${reason}`),
    reset: () => assert.fail('unexpected reset'),
    destroy: () => {
      state.destroyed = true;
    },
    pauseResponses: () => undefined,
  };
  return state;
}

/** `text` as a view into a larger "pooled" buffer, lent to the relay with `lease`. */
function lent(text: string, lease: PayloadLease): Buffer {
  const pooled = Buffer.alloc(4096, 0x2a);
  const view = pooled.subarray(100, 100 + Buffer.byteLength(text));
  view.write(text, 'latin1');
  lendView(view, lease);
  return view;
}

const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';

/**
 * The fast path's response side and pooled payload views (mux/payload-lease.ts): a lent chunk
 * goes back to its pool only once every write of its bytes completed, and never while part of
 * it is kept (a response head cut between two chunks).
 */
describe('fast path: response relay and lent views', () => {
  it('gives a lent chunk back only after the visitor write completed', () => {
    const socket = new VisitorSocket();
    const lease = new CountingLease();
    const relay = new ResponseRelay(socket as unknown as Socket, owner(['GET']));
    relay.onData(lent(RESPONSE, lease));
    assert.equal(socket.text, RESPONSE);
    assert.equal(lease.holds, 1, 'held while the write is in flight');
    socket.completeWrites();
    assert.equal(lease.holds, 0);
    assert.equal(lease.released, 1);
  });

  it('holds a chunk split into several writes (two responses, corked) until the last completes', () => {
    const socket = new VisitorSocket();
    const lease = new CountingLease();
    const ends = owner(['GET', 'GET']);
    const relay = new ResponseRelay(socket as unknown as Socket, ends);
    relay.onData(lent(RESPONSE + RESPONSE, lease));
    assert.equal(socket.text, RESPONSE + RESPONSE);
    assert.equal(socket.written.length, 2);
    assert.equal(socket.corked, 0, 'corked for the second slice and uncorked after the chunk');
    assert.equal(ends.finishedResponses, 2);
    assert.equal(lease.holds, 1);
    socket.completeWrites();
    assert.equal(lease.holds, 0);
  });

  it('keeps a chunk whose end starts a response head: its bytes are read again with the next chunk', () => {
    const socket = new VisitorSocket();
    const first = new CountingLease();
    const second = new CountingLease();
    const relay = new ResponseRelay(socket as unknown as Socket, owner(['GET', 'GET']));
    relay.onData(lent(RESPONSE + 'HTTP/1.1 200 OK\r\nCont', first));
    socket.completeWrites();
    assert.equal(first.holds, 1, 'the partial head still points into the pooled buffer: never given back');
    relay.onData(lent('ent-Length: 2\r\n\r\nhi', second));
    socket.completeWrites();
    assert.equal(socket.text, RESPONSE + 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');
    assert.equal(second.holds, 0, 'the chunk that completed the head is given back');
    assert.equal(first.released, 0);
  });

  it('after a 101, raw bytes are given back after their write too', () => {
    const socket = new VisitorSocket();
    const lease = new CountingLease();
    const ends = owner(['GET-upgrade']);
    const relay = new ResponseRelay(socket as unknown as Socket, ends);
    relay.onData(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
    assert.ok(ends.switched);
    relay.onData(lent('raw websocket bytes', lease));
    assert.equal(lease.holds, 1);
    socket.completeWrites();
    assert.equal(lease.holds, 0);
    assert.match(socket.text, /raw websocket bytes$/);
  });

  it('a write that fails (the visitor went away) gives the chunk back as well', () => {
    const lease = new CountingLease();
    const failing = {
      write: (_bytes: Buffer, done?: (err?: Error) => void) => {
        process.nextTick(() => done?.(new Error('EPIPE')));
        return false;
      },
      cork: () => undefined,
      uncork: () => undefined,
    };
    const relay = new ResponseRelay(failing as unknown as Socket, owner(['GET']));
    relay.onData(lent(RESPONSE, lease));
    assert.equal(lease.holds, 1);
    return new Promise<void>((resolve) =>
      process.nextTick(() => {
        assert.equal(lease.holds, 0);
        resolve();
      }),
    );
  });
});
