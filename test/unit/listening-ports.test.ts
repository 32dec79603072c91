import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { listListeningPorts, parseProcNetTcp } from '../../agent/src/rpc/listening-ports';

const TCP4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0BB8 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 333 1 0000000000000000 20 4 30 10 -1
   3: garbage line
   4: ZZZZZZZZ:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 555 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 666 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 100 0 0 10 0
`;

test('parses /proc/net/tcp: little-endian addresses, hex ports, states; skips garbage', () => {
  const sockets = parseProcNetTcp(TCP4, 4);
  assert.deepEqual(
    sockets.map((s) => [s.address, s.port, s.state, s.inode]),
    [
      ['127.0.0.1', 3000, '0A', 111],
      ['0.0.0.0', 8080, '0A', 222],
      ['127.0.0.1', 3000, '01', 333],
    ],
  );
});

test('parses /proc/net/tcp6 including ::1, :: and IPv4-mapped addresses', () => {
  const sockets = parseProcNetTcp(TCP6, 6);
  assert.deepEqual(
    sockets.map((s) => [s.address, s.port]),
    [
      ['::1', 8081],
      ['::', 8080],
      ['::ffff:7f00:1', 9000],
    ],
  );
});

test('a fake /proc tree: only LISTEN sockets, owners, names and working directories where readable', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'portway-proc-'));
  fs.mkdirSync(path.join(root, 'net'));
  fs.writeFileSync(path.join(root, 'net', 'tcp'), TCP4);
  fs.writeFileSync(path.join(root, 'net', 'tcp6'), TCP6);
  fs.mkdirSync(path.join(root, '4242', 'fd'), { recursive: true });
  fs.writeFileSync(path.join(root, '4242', 'comm'), 'vite\n');
  fs.symlinkSync('/home/dev/my-app', path.join(root, '4242', 'cwd'));
  fs.symlinkSync('socket:[111]', path.join(root, '4242', 'fd', '7'));
  fs.symlinkSync('/dev/null', path.join(root, '4242', 'fd', '0'));
  fs.mkdirSync(path.join(root, '77', 'fd'), { recursive: true }); // no comm file: name unknown
  fs.symlinkSync('socket:[666]', path.join(root, '77', 'fd', '3'));
  const ports = await listListeningPorts({ procRoot: root });
  assert.deepEqual(ports, [
    { port: 3000, address: '127.0.0.1', family: 4, pid: 4242, process: 'vite', cwd: '/home/dev/my-app' },
    { port: 8080, address: '0.0.0.0', family: 4 },
    { port: 8080, address: '::', family: 6, pid: 77 },
    { port: 8081, address: '::1', family: 6 },
    { port: 9000, address: '::ffff:7f00:1', family: 6 },
  ]);
  fs.rmSync(root, { recursive: true });
});

test('a missing /proc gives an empty list, not an error', async () => {
  assert.deepEqual(await listListeningPorts({ procRoot: path.join(os.tmpdir(), 'portway-no-such-proc') }), []);
});

test('finds a real server of this process, with our pid and process name', { skip: process.platform !== 'linux' }, async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const found = (await listListeningPorts()).find((p) => p.port === port);
    assert.ok(found, `port ${port} not found`);
    assert.equal(found.address, '127.0.0.1');
    assert.equal(found.pid, process.pid);
    assert.equal(found.process, fs.readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim());
    assert.equal(found.cwd, fs.realpathSync(process.cwd()));
  } finally {
    server.close();
  }
  const after = await listListeningPorts();
  assert.equal(after.some((p) => p.port === port && p.pid === process.pid), false, 'a closed server is no longer listed');
});
