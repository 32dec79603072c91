/**
 * A tiny authoritative DNS server on loopback UDP that answers every A query with one address
 * (127.0.0.1 by default) and every other query type with an empty NOERROR. Pebble's VA is pointed
 * at it (`-dnsserver`) so test domains like app.portway.test resolve to the challenge server
 * without touching /etc/hosts or any real resolver.
 */
import * as dgram from 'node:dgram';
import { once } from 'node:events';

const TYPE_A = 1;
const CLASS_IN = 1;
const HEADER_BYTES = 12;
const MAX_LABELS = 127;

export interface DnsAServer {
  /** host:port to hand to `pebble -dnsserver`. */
  readonly address: string;
  readonly port: number;
  /** Lower-cased names asked for, in arrival order (any type), so a test can prove resolution went here. */
  readonly queried: string[];
  close(): Promise<void>;
}

interface Question {
  name: string;
  type: number;
  /** Offset just past the question section. */
  end: number;
}

/** Parses the first question; undefined for anything malformed (those packets are dropped). */
function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.length < HEADER_BYTES || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = HEADER_BYTES;
  for (;;) {
    if (offset >= msg.length || labels.length > MAX_LABELS) return undefined;
    const len = msg[offset];
    if (len === 0) break;
    if (len > 63 || offset + 1 + len > msg.length) return undefined; // no compression in questions
    labels.push(msg.toString('latin1', offset + 1, offset + 1 + len));
    offset += 1 + len;
  }
  offset += 1;
  if (offset + 4 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(offset), end: offset + 4 };
}

function buildAnswer(query: Buffer, question: Question, ipv4: number[]): Buffer {
  const isA = question.type === TYPE_A;
  const header = Buffer.alloc(HEADER_BYTES);
  query.copy(header, 0, 0, 2); // id
  const rd = query[2] & 0x01;
  const opcode = query[2] & 0x78;
  header[2] = 0x80 | opcode | 0x04 | rd; // QR, opcode, AA, RD
  header[3] = 0x00; // RA=0, RCODE=NOERROR
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(isA ? 1 : 0, 6); // ANCOUNT
  const questionBytes = query.subarray(HEADER_BYTES, question.end);
  if (!isA) return Buffer.concat([header, questionBytes]);
  const answer = Buffer.alloc(16);
  answer.writeUInt16BE(0xc00c, 0); // pointer to the name in the question
  answer.writeUInt16BE(TYPE_A, 2);
  answer.writeUInt16BE(CLASS_IN, 4);
  answer.writeUInt32BE(0, 6); // TTL 0: nothing should cache test answers
  answer.writeUInt16BE(4, 10);
  Buffer.from(ipv4).copy(answer, 12);
  return Buffer.concat([header, questionBytes, answer]);
}

export async function startDnsAServer(options: { answer?: string } = {}): Promise<DnsAServer> {
  const answer = options.answer ?? '127.0.0.1';
  const ipv4 = answer.split('.').map(Number);
  if (ipv4.length !== 4 || ipv4.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) {
    throw new Error(`not an IPv4 address: ${answer}`);
  }
  const socket = dgram.createSocket('udp4');
  const queried: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const question = parseQuestion(msg);
    if (!question) return;
    queried.push(question.name);
    socket.send(buildAnswer(msg, question, ipv4), rinfo.port, rinfo.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const port = socket.address().port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    queried,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
