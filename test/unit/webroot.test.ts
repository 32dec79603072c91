import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { adaptNodeExchange } from '../../agent/src/serve/node-http-adapter';
import { createWebrootHandler } from '../../agent/src/serve/webroot';
import { parseRange } from '../../agent/src/serve/webroot/range';
import { parseRequestPath } from '../../agent/src/serve/webroot/request-path';

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const SECRET = 'TOP-SECRET-OUTSIDE-ROOT';
const HELLO = 'hello, webroot\n';
const MTIME = new Date('2020-01-02T03:04:05.000Z');

let base: string;
let root: string;
let server: http.Server;
let port: number;

function write(rel: string, content: string | Buffer): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** A request through Node's client (which keeps the path as given, but normalises nothing we rely on). */
function request(urlPath: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: urlPath, method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A request written byte-for-byte on a socket, so no client can clean up the target first. */
function rawRequest(target: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(head[0].split(' ')[1]), headers, body: all.subarray(split + 4) });
    });
    socket.write(`GET ${target} HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n`, 'latin1');
  });
}

before(async () => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portway-webroot-')));
  root = path.join(base, 'www');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(base, 'secret.txt'), SECRET);
  fs.mkdirSync(path.join(base, 'outside'));
  fs.writeFileSync(path.join(base, 'outside', 'secret.txt'), SECRET);
  // A sibling whose name has the root as a prefix: catches a prefix check without separator.
  fs.mkdirSync(path.join(base, 'www-private'));
  fs.writeFileSync(path.join(base, 'www-private', 'secret.txt'), SECRET);

  write('index.html', '<h1>home</h1>');
  write('hello.txt', HELLO);
  fs.utimesSync(path.join(root, 'hello.txt'), MTIME, MTIME);
  write('app.js', 'console.log(1)');
  write('style.css', 'body{}');
  write('data.json', '{}');
  write('pic.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  write('blob.weird', 'x');
  write('empty.txt', '');
  write('sub/index.html', '<h1>sub</h1>');
  write('sub/deeper/file.txt', 'deep');
  write('noindex/file.txt', 'f');
  write('evil.example/index.html', 'evil dir');
  write('with space/é.txt', 'unicode name');
  write('.env', 'DOTENV-SECRET');
  write('.git/config', 'GIT-SECRET');
  write('.well-known/acme.txt', 'well known');
  fs.mkdirSync(path.join(root, 'emptydir'));
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'link-out.txt'));
  fs.symlinkSync('../outside', path.join(root, 'link-out-dir'));
  fs.symlinkSync('../www-private/secret.txt', path.join(root, 'link-sibling.txt'));
  fs.symlinkSync('hello.txt', path.join(root, 'link-in.txt'));
  fs.symlinkSync('.env', path.join(root, 'link-dotenv.txt'));
  fs.mkdirSync(path.join(root, 'idx-out'));
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'idx-out', 'index.html'));
  // 3 MiB of varied bytes: several read-stream chunks.
  const big = Buffer.alloc(3 * 1024 * 1024 + 7);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 11)) & 0xff;
  write('big.bin', big);

  const handler = createWebrootHandler(root);
  server = http.createServer((req, res) => {
    const { request: agentReq, response } = adaptNodeExchange(req, res, { proto: 'http' });
    handler(agentReq, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(base, { recursive: true, force: true });
});

describe('webroot: files and types', () => {
  it('serves a file with type, length, validators and no-cache', async () => {
    const r = await request('/hello.txt');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), HELLO);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(HELLO)));
    assert.match(r.headers['etag'], /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(r.headers['last-modified'], MTIME.toUTCString());
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['accept-ranges'], 'bytes');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  });

  const types: Array<[string, string]> = [
    ['/app.js', 'text/javascript; charset=utf-8'],
    ['/style.css', 'text/css; charset=utf-8'],
    ['/data.json', 'application/json; charset=utf-8'],
    ['/pic.png', 'image/png'],
    ['/blob.weird', 'application/octet-stream'],
    ['/', 'text/html; charset=utf-8'],
  ];
  for (const [urlPath, type] of types) {
    it(`Content-Type of ${urlPath} is ${type}`, async () => {
      const r = await request(urlPath);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], type);
    });
  }

  it('serves an empty file as 200 with length 0', async () => {
    const r = await request('/empty.txt');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '0');
    assert.equal(r.body.length, 0);
  });

  it('decodes percent-encoded UTF-8 names and spaces', async () => {
    const r = await request('/with%20space/%C3%A9.txt');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'unicode name');
  });

  it('ignores the query string', async () => {
    const r = await request('/hello.txt?v=3&x=..%2f..');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), HELLO);
  });

  it('streams a multi-MiB file intact', async () => {
    const r = await request('/big.bin');
    assert.equal(r.status, 200);
    const expected = fs.readFileSync(path.join(root, 'big.bin'));
    assert.equal(r.body.length, expected.length);
    assert.equal(createHash('sha256').update(r.body).digest('hex'), createHash('sha256').update(expected).digest('hex'));
  });

  it('follows a symlink that stays inside the root', async () => {
    const r = await request('/link-in.txt');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), HELLO);
  });
});

describe('webroot: directories', () => {
  it('serves index.html for the root', async () => {
    const r = await request('/');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '<h1>home</h1>');
  });

  it('serves index.html for a directory with a slash', async () => {
    const r = await request('/sub/');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '<h1>sub</h1>');
  });

  it('redirects a directory without slash with 301, keeping the query', async () => {
    const r = await request('/sub?a=1');
    assert.equal(r.status, 301);
    assert.equal(r.headers['location'], '/sub/?a=1');
    const nested = await request('/sub/deeper');
    assert.equal(nested.status, 301);
    assert.equal(nested.headers['location'], '/sub/deeper/');
  });

  it('never redirects to a protocol-relative URL', async () => {
    const r = await rawRequest('//evil.example');
    assert.equal(r.status, 301);
    assert.equal(r.headers['location'], '/evil.example/');
  });

  it('404s a directory without index.html (no listings)', async () => {
    for (const p of ['/noindex/', '/emptydir/']) {
      const r = await request(p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.body.toString(), /file\.txt/);
    }
  });

  it('404s a file requested with a trailing slash', async () => {
    assert.equal((await request('/hello.txt/')).status, 404);
  });

  it('404 is a small HTML page', async () => {
    const r = await request('/nope.html');
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(r.body.toString(), /<h1>404 Not Found<\/h1>/);
    assert.ok(r.body.length < 512);
  });
});

describe('webroot: methods', () => {
  it('HEAD sends the GET headers without a body', async () => {
    const r = await request('/hello.txt', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(HELLO)));
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.body.length, 0);
  });

  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    it(`${method} is 405 with Allow`, async () => {
      const r = await request('/hello.txt', { method, body: method === 'OPTIONS' ? undefined : 'payload' });
      assert.equal(r.status, 405);
      assert.equal(r.headers['allow'], 'GET, HEAD');
    });
  }
});

describe('webroot: conditional requests', () => {
  it('If-None-Match with the ETag is 304 without body', async () => {
    const first = await request('/hello.txt');
    const r = await request('/hello.txt', { headers: { 'If-None-Match': first.headers['etag'] } });
    assert.equal(r.status, 304);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers['etag'], first.headers['etag']);
  });

  it('If-None-Match matches weakly, in a list, and "*"', async () => {
    const etag = (await request('/hello.txt')).headers['etag'];
    assert.equal((await request('/hello.txt', { headers: { 'If-None-Match': `"zzz", ${etag}` } })).status, 304);
    assert.equal((await request('/hello.txt', { headers: { 'If-None-Match': etag.slice(2) } })).status, 304);
    assert.equal((await request('/hello.txt', { headers: { 'If-None-Match': '*' } })).status, 304);
  });

  it('a different ETag is 200, even with a matching If-Modified-Since', async () => {
    const r = await request('/hello.txt', {
      headers: { 'If-None-Match': 'W/"1-1"', 'If-Modified-Since': MTIME.toUTCString() },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), HELLO);
  });

  it('If-Modified-Since at or after mtime is 304, before it 200', async () => {
    assert.equal((await request('/hello.txt', { headers: { 'If-Modified-Since': MTIME.toUTCString() } })).status, 304);
    const later = new Date(MTIME.getTime() + 86_400_000).toUTCString();
    assert.equal((await request('/hello.txt', { headers: { 'If-Modified-Since': later } })).status, 304);
    const earlier = new Date(MTIME.getTime() - 1000).toUTCString();
    assert.equal((await request('/hello.txt', { headers: { 'If-Modified-Since': earlier } })).status, 200);
    assert.equal((await request('/hello.txt', { headers: { 'If-Modified-Since': 'not a date' } })).status, 200);
  });

  it('the ETag changes when the file changes', async () => {
    write('changing.txt', 'one');
    const first = (await request('/changing.txt')).headers['etag'];
    write('changing.txt', 'three');
    const r = await request('/changing.txt', { headers: { 'If-None-Match': first } });
    assert.equal(r.status, 200);
    assert.notEqual(r.headers['etag'], first);
  });
});

describe('webroot: ranges', () => {
  const size = Buffer.byteLength(HELLO);
  const cases: Array<[string, number, number]> = [
    ['bytes=0-4', 0, 4],
    ['bytes=7-', 7, size - 1],
    ['bytes=-3', size - 3, size - 1],
    ['bytes=2-999999', 2, size - 1],
    ['bytes=-999', 0, size - 1],
  ];
  for (const [header, start, end] of cases) {
    it(`${header} is 206 ${start}-${end}`, async () => {
      const r = await request('/hello.txt', { headers: { Range: header } });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes ${start}-${end}/${size}`);
      assert.equal(r.headers['content-length'], String(end - start + 1));
      assert.equal(r.body.toString(), HELLO.slice(start, end + 1));
    });
  }

  it('a range deep in a large file returns exactly those bytes', async () => {
    const big = fs.readFileSync(path.join(root, 'big.bin'));
    const r = await request('/big.bin', { headers: { Range: 'bytes=1000000-2100000' } });
    assert.equal(r.status, 206);
    assert.ok(r.body.equals(big.subarray(1000000, 2100001)));
  });

  for (const header of [`bytes=${Buffer.byteLength(HELLO)}-`, 'bytes=-0', 'bytes=99999-100000']) {
    it(`${header} is 416 with Content-Range */size`, async () => {
      const r = await request('/hello.txt', { headers: { Range: header } });
      assert.equal(r.status, 416);
      assert.equal(r.headers['content-range'], `bytes */${size}`);
    });
  }

  it('any range of an empty file is 416', async () => {
    assert.equal((await request('/empty.txt', { headers: { Range: 'bytes=0-' } })).status, 416);
  });

  for (const header of ['bytes=0-1,3-4', 'items=0-4', 'bytes=5-2', 'bytes=abc', 'bytes=-']) {
    it(`${header} is served as a full 200`, async () => {
      const r = await request('/hello.txt', { headers: { Range: header } });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), HELLO);
    });
  }

  it('HEAD with a range reports the partial headers without a body', async () => {
    const r = await request('/hello.txt', { method: 'HEAD', headers: { Range: 'bytes=0-4' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-length'], '5');
    assert.equal(r.body.length, 0);
  });

  it('If-Range with the current date keeps the range; with an ETag or old date it is 200', async () => {
    const keep = await request('/hello.txt', { headers: { Range: 'bytes=0-4', 'If-Range': MTIME.toUTCString() } });
    assert.equal(keep.status, 206);
    const old = new Date(MTIME.getTime() - 60_000).toUTCString();
    assert.equal((await request('/hello.txt', { headers: { Range: 'bytes=0-4', 'If-Range': old } })).status, 200);
    const etag = (await request('/hello.txt')).headers['etag'];
    assert.equal((await request('/hello.txt', { headers: { Range: 'bytes=0-4', 'If-Range': etag } })).status, 200);
  });

  it('parseRange handles the edge cases directly', () => {
    assert.deepEqual(parseRange(undefined, 10), { kind: 'full' });
    assert.deepEqual(parseRange('bytes=0-0', 10), { kind: 'partial', start: 0, end: 0 });
    assert.deepEqual(parseRange('BYTES = 9-', 10), { kind: 'partial', start: 9, end: 9 });
    assert.deepEqual(parseRange('bytes=10-', 10), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-10', 10), { kind: 'partial', start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=99999999999999999999-', 10), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=1-2, ', 10), { kind: 'partial', start: 1, end: 2 });
  });
});

describe('webroot: nothing escapes the root', () => {
  // Each of these names the secret outside the root one way or another.
  const forbidden: Array<[string, number]> = [
    ['/../secret.txt', 403],
    ['/sub/../../secret.txt', 403],
    ['/%2e%2e/secret.txt', 403],
    ['/%2E%2E/secret.txt', 403],
    ['/.%2e/secret.txt', 403],
    ['/sub/%2e%2e/%2e%2e/secret.txt', 403],
    ['/..%2fsecret.txt', 403],
    ['/%2e%2e%2fsecret.txt', 403],
    ['/sub%2f..%2f..%2fsecret.txt', 403],
    ['/..%5csecret.txt', 403],
    ['/%5c..%5csecret.txt', 403],
    ['/..\\secret.txt', 403],
    ['/sub\\..\\..\\secret.txt', 403],
    ['/./hello.txt', 403],
    ['/hello.txt%00.png', 403],
    ['/%00', 403],
    ['/%zz', 400],
    ['/%', 400],
    ['/%e0%a4%a', 400],
    ['/%ff', 400],
    ['http://site.test/../secret.txt', 400],
    ['*', 400],
    ['/%252e%252e/secret.txt', 404], // double-encoded: a literal "%2e%2e" name, which does not exist
    ['//secret.txt', 404],
    [`/${'..%2f'.repeat(20)}etc/passwd`, 403],
  ];
  for (const [target, status] of forbidden) {
    it(`${JSON.stringify(target)} → ${status}`, async () => {
      const r = await rawRequest(target);
      assert.equal(r.status, status);
      assert.doesNotMatch(r.body.toString(), new RegExp(SECRET));
    });
  }

  const symlinks: Array<[string, number]> = [
    ['/link-out.txt', 403],
    ['/link-out-dir/secret.txt', 403],
    ['/link-out-dir/', 403],
    ['/link-sibling.txt', 403],
    ['/idx-out/', 403],
  ];
  for (const [target, status] of symlinks) {
    it(`symlink ${target} resolving outside → ${status}`, async () => {
      const r = await request(target);
      assert.equal(r.status, status);
      assert.doesNotMatch(r.body.toString(), new RegExp(SECRET));
    });
  }

  it('hides dotfiles, also behind a symlink, but serves /.well-known', async () => {
    for (const p of ['/.env', '/.git/config', '/link-dotenv.txt', '/%2eenv']) {
      const r = await request(p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.body.toString(), /SECRET/);
    }
    const wk = await request('/.well-known/acme.txt');
    assert.equal(wk.status, 200);
    assert.equal(wk.body.toString(), 'well known');
  });

  it('serves dotfiles when asked to', async () => {
    const handler = createWebrootHandler(root, { serveDotfiles: true });
    const open = http.createServer((req, res) => {
      const { request: agentReq, response } = adaptNodeExchange(req, res, { proto: 'http' });
      handler(agentReq, response);
    });
    await new Promise<void>((resolve) => open.listen(0, '127.0.0.1', resolve));
    try {
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: (open.address() as AddressInfo).port, path: '/.env', agent: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      assert.equal(body, 'DOTENV-SECRET');
    } finally {
      await new Promise<void>((resolve) => open.close(() => resolve()));
    }
  });

  it('404s a FIFO instead of blocking on it', { skip: process.platform === 'win32' }, async () => {
    execFileSync('mkfifo', [path.join(root, 'pipe.txt')]);
    const r = await request('/pipe.txt');
    assert.equal(r.status, 404);
  });

  it('404s when the root itself does not exist', async () => {
    const handler = createWebrootHandler(path.join(base, 'no-such-root'));
    const gone = http.createServer((req, res) => {
      const { request: agentReq, response } = adaptNodeExchange(req, res, { proto: 'http' });
      handler(agentReq, response);
    });
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    try {
      const status = await new Promise<number>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: (gone.address() as AddressInfo).port, path: '/', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      assert.equal(status, 404);
    } finally {
      await new Promise<void>((resolve) => gone.close(() => resolve()));
    }
  });

  it('parseRequestPath splits, decodes and refuses', () => {
    assert.deepEqual(parseRequestPath('/a/b%20c/?q=1'), { kind: 'ok', segments: ['a', 'b c'], trailingSlash: true, query: '?q=1' });
    assert.deepEqual(parseRequestPath('/'), { kind: 'ok', segments: [], trailingSlash: true, query: '' });
    assert.deepEqual(parseRequestPath('/a//b'), { kind: 'ok', segments: ['a', 'b'], trailingSlash: false, query: '' });
    assert.deepEqual(parseRequestPath('/c%3a/x', 'win32'), { kind: 'forbidden' });
    assert.deepEqual(parseRequestPath('/c%3a/x', 'linux'), { kind: 'ok', segments: ['c:', 'x'], trailingSlash: false, query: '' });
  });
});
