/**
 * Payload views that point into a reused (pooled) receive buffer. The relay reads its agents'
 * WebSockets into pooled buffers (relay/src/agent-link/); a Data payload handed to a stream is
 * then a view into one of them, and the buffer may be filled again only once nobody reads that
 * view any more. Whoever takes a payload view says so by retaining its lease; a consumer that
 * knows when it is done with a view (the relay's fast path, once the visitor's socket wrote it)
 * gives it back with ViewReturn. A view nobody gives back keeps its buffer out of the pool for
 * good (the garbage collector frees it): forgetting to return is safe, returning early is not.
 */
export interface PayloadLease {
  /** One more view of the buffer is in use. */
  retain(): void;
  /** A view retained before is no longer read. */
  release(): void;
}

/** Views lent out (each retained once), by the exact Buffer object handed over. */
const lent = new WeakMap<Buffer, PayloadLease>();

/** Hands `view` out as returnable: it holds its buffer until takeBack(view) or forever. */
export function lendView(view: Buffer, lease: PayloadLease): void {
  lease.retain();
  lent.set(view, lease);
}

/** Keeps `view`'s buffer out of the pool for good: for consumers that cannot say when they are done. */
export function keepView(lease: PayloadLease): void {
  lease.retain();
}

/**
 * Gives back a lent view once every write of its bytes has completed:
 *
 *   const back = ViewReturn.of(chunk);   // undefined: not lent, nothing to give back
 *   socket.write(part, back?.afterWrite());
 *   back?.done(stillReferenced);         // after the last write was issued
 *
 * done(true) keeps the buffer for good (a slice of the chunk is still held elsewhere).
 */
export class ViewReturn {
  /** Writes in flight, plus one until done() is called. */
  private holds = 1;

  private constructor(private readonly lease: PayloadLease) {}

  static of(view: Buffer): ViewReturn | undefined {
    const lease = lent.get(view);
    if (lease === undefined) return undefined;
    lent.delete(view);
    return new ViewReturn(lease);
  }

  /** The callback for one more write of the view's bytes. */
  afterWrite(): () => void {
    this.holds++;
    return this.drop;
  }

  done(stillReferenced: boolean): void {
    if (stillReferenced) return; // never dropped to zero: the buffer stays out of the pool
    this.drop();
  }

  private readonly drop = (): void => {
    if (--this.holds === 0) this.lease.release();
  };
}
