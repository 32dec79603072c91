import type { ControlRequest, ControlResponse } from '../protocol/control';

/** An error a control request handler returns to the other side with a code. */
export class ControlRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlRequestError';
  }
}

type AnyMessage = { type: string };
type RequestHandler = (params: unknown) => unknown | Promise<unknown>;

/**
 * The control plane of a session: JSON text messages next to the binary frames.
 * Notifications go to `on(type)` handlers; requests get exactly one response
 * (correlated by id), from the handler registered with `handle(method)`.
 */
export class ControlChannel<In extends AnyMessage> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly listeners = new Map<string, (message: In) => void>();

  constructor(
    private readonly sendText: (text: string) => void,
    private readonly parse: (text: string) => In,
    private readonly onInvalid: (reason: string) => void,
  ) {}

  send(message: object): void {
    this.sendText(JSON.stringify(message));
  }

  on<T extends In['type']>(type: T, listener: (message: Extract<In, { type: T }>) => void): void {
    this.listeners.set(type, listener as (message: In) => void);
  }

  handle(method: string, handler: RequestHandler): void {
    this.handlers.set(method, handler);
  }

  request(method: string, params: unknown, timeoutMs = 15_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ type: 'request', id, method, params } satisfies ControlRequest);
    });
  }

  /** Feed one text message received from the peer. */
  receive(text: string): void {
    let message: In;
    try {
      message = this.parse(text);
    } catch (err) {
      return this.onInvalid((err as Error).message);
    }
    if (message.type === 'request') return void this.answer(message as unknown as ControlRequest);
    if (message.type === 'response') return this.settle(message as unknown as ControlResponse);
    const listener = this.listeners.get(message.type);
    if (listener) listener(message);
    else this.onInvalid(`unexpected control message "${message.type}"`);
  }

  private async answer(request: ControlRequest): Promise<void> {
    const handler = this.handlers.get(request.method);
    const reply = (body: Omit<ControlResponse, 'type' | 'id'>) => this.send({ type: 'response', id: request.id, ...body } satisfies ControlResponse);
    if (!handler) return reply({ error: { code: 'unknown-method', message: `unknown request ${request.method}` } });
    try {
      reply({ result: (await handler(request.params)) ?? null });
    } catch (err) {
      const code = err instanceof ControlRequestError ? err.code : 'error';
      reply({ error: { code, message: (err as Error).message } });
    }
  }

  private settle(response: ControlResponse): void {
    const waiter = this.pending.get(response.id);
    if (!waiter) return;
    this.pending.delete(response.id);
    clearTimeout(waiter.timer);
    if (response.error) waiter.reject(new ControlRequestError(response.error.code, response.error.message));
    else waiter.resolve(response.result);
  }

  /** The session ended: fail every request still waiting. */
  close(reason: string): void {
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`session closed before an answer: ${reason}`));
    }
    this.pending.clear();
  }
}
