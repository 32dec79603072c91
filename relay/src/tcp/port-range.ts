import type { PortRangeWire } from '../../../protocol/control-tcp';

/** The relay's TCP port range unless --tcp-ports says otherwise (pktriot's). */
export const DEFAULT_TCP_PORTS = '22000-22999';

export class PortRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PortRangeError';
  }
}

/** A range of TCP port numbers, both ends included. */
export class PortRange implements PortRangeWire {
  private constructor(
    readonly first: number,
    readonly last: number,
  ) {}

  /**
   * "22000-22999", a single "22000", or "off" / "none" (undefined: no TCP ports).
   * Throws PortRangeError with a message meant for the operator.
   */
  static parse(text: string): PortRange | undefined {
    const value = text.trim().toLowerCase();
    if (value === 'off' || value === 'none') return undefined;
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
    const first = Number(match?.[1]);
    const last = match?.[2] === undefined ? first : Number(match[2]);
    if (!match || first < 1 || last > 65535 || first > last) {
      throw new PortRangeError(`--tcp-ports must be FIRST-LAST with 1 <= FIRST <= LAST <= 65535, a single port, or "off" (got "${text}")`);
    }
    return new PortRange(first, last);
  }

  get size(): number {
    return this.last - this.first + 1;
  }

  includes(port: number): boolean {
    return Number.isInteger(port) && port >= this.first && port <= this.last;
  }

  toString(): string {
    return this.first === this.last ? String(this.first) : `${this.first}-${this.last}`;
  }

  toWire(): PortRangeWire {
    return { first: this.first, last: this.last };
  }
}
