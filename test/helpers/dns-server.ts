/**
 * A minimal authoritative DNS server over UDP on 127.0.0.1, for tests that need real lookups:
 * it parses the question, answers TXT records from a map and says NXDOMAIN for unknown names.
 * Names listed in `silent` are never answered (to exercise timeouts).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';

const TYPE_TXT = 16;
const CLASS_IN = 1;
const RCODE_NOERROR = 0;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const HEADER_SIZE = 12;

export interface DnsQuery {
  name: string;
  type: number;
}

export class TestDnsServer {
  /** Lower-case name → TXT records, each a list of character-strings (≤ 255 bytes each). */
  readonly txt = new Map<string, string[][]>();
  /** Names that exist but have no TXT record (answered NOERROR with no answers). */
  readonly emptyNames = new Set<string>();
  /** Names the server never answers. */
  readonly silent = new Set<string>();
  /** Every question received, in order. */
  readonly queries: DnsQuery[] = [];

  private constructor(private readonly socket: dgram.Socket) {}

  static async start(): Promise<TestDnsServer> {
    const socket = dgram.createSocket('udp4');
    const server = new TestDnsServer(socket);
    socket.on('message', (message, remote) => server.handle(message, remote));
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return server;
  }

  /** `127.0.0.1:<port>`, as Resolver.setServers takes it. */
  get address(): string {
    const { address, port } = this.socket.address();
    return `${address}:${port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private handle(message: Buffer, remote: dgram.RemoteInfo): void {
    const question = parseQuestion(message);
    if (!question) {
      if (message.length >= 2) this.reply(remote, buildResponse(message, HEADER_SIZE, RCODE_FORMERR, []));
      return;
    }
    this.queries.push({ name: question.name, type: question.type });
    const name = question.name.toLowerCase();
    if (this.silent.has(name)) return;
    const records = this.txt.get(name);
    if (!records && !this.emptyNames.has(name)) {
      this.reply(remote, buildResponse(message, question.end, RCODE_NXDOMAIN, []));
      return;
    }
    const answers = question.type === TYPE_TXT && question.class === CLASS_IN ? (records ?? []) : [];
    this.reply(remote, buildResponse(message, question.end, RCODE_NOERROR, answers));
  }

  private reply(remote: dgram.RemoteInfo, response: Buffer): void {
    this.socket.send(response, remote.port, remote.address);
  }
}

/** The single question of a query, and where it ends; undefined if the message is malformed. */
function parseQuestion(message: Buffer): { name: string; type: number; class: number; end: number } | undefined {
  if (message.length < HEADER_SIZE) return undefined;
  if (message.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = HEADER_SIZE;
  for (;;) {
    if (offset >= message.length) return undefined;
    const length = message[offset++];
    if (length === 0) break;
    // Queries never compress their question; a pointer here is malformed.
    if (length > 63 || offset + length > message.length) return undefined;
    labels.push(message.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > message.length) return undefined;
  return { name: labels.join('.'), type: message.readUInt16BE(offset), class: message.readUInt16BE(offset + 2), end: offset + 4 };
}

function buildResponse(query: Buffer, questionEnd: number, rcode: number, records: string[][]): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // same id
  const queryFlags = query.length >= 4 ? query.readUInt16BE(2) : 0;
  const opcode = queryFlags & 0x7800;
  const recursionDesired = queryFlags & 0x0100;
  header.writeUInt16BE(0x8000 | opcode | 0x0400 | recursionDesired | rcode, 2); // QR, AA
  header.writeUInt16BE(questionEnd > HEADER_SIZE ? 1 : 0, 4);
  header.writeUInt16BE(records.length, 6);
  const question = query.subarray(HEADER_SIZE, questionEnd);
  const answers = records.map((chunks) => {
    const rdata = Buffer.concat(
      chunks.map((chunk) => {
        const bytes = Buffer.from(chunk, 'utf8');
        if (bytes.length > 255) throw new Error('a TXT character-string is at most 255 bytes');
        return Buffer.concat([Buffer.from([bytes.length]), bytes]);
      }),
    );
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    fixed.writeUInt16BE(TYPE_TXT, 2);
    fixed.writeUInt16BE(CLASS_IN, 4);
    fixed.writeUInt32BE(60, 6);
    fixed.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([fixed, rdata]);
  });
  return Buffer.concat([header, question, ...answers]);
}
