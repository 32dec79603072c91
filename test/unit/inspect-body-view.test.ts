import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { showBody } from '../../agent/src/inspect/body-view';

const json = JSON.stringify({ items: [1, 2, 3], name: 'portway' });
const pretty = JSON.stringify(JSON.parse(json), null, 2);
const show = (bytes: Buffer, headers: string[], truncated = false) => showBody(bytes, bytes.length, truncated, headers);

describe('showing a captured body', () => {
  it('pretty-prints JSON', () => {
    const shown = show(Buffer.from(json), ['Content-Type', 'application/json; charset=utf-8']);
    assert.equal(shown.kind, 'json');
    assert.equal(shown.text, pretty);
  });

  for (const [encoding, encode] of [
    ['gzip', zlib.gzipSync],
    ['br', zlib.brotliCompressSync],
    ['deflate', zlib.deflateSync],
  ] as const) {
    it(`decodes ${encoding} when shown`, () => {
      const shown = show(encode(Buffer.from(json)), ['Content-Type', 'application/json', 'Content-Encoding', encoding]);
      assert.equal(shown.decodedFrom, encoding);
      assert.equal(shown.text, pretty);
    });
  }

  it('decodes the beginning of a gzip body cut short by the preview', () => {
    const text = 'line of text\n'.repeat(20000);
    const gz = zlib.gzipSync(Buffer.from(text), { level: 0 }); // stored blocks: the cut keeps whole text
    const cut = gz.subarray(0, 64 * 1024);
    const shown = showBody(cut, gz.length, true, ['Content-Type', 'text/plain', 'Content-Encoding', 'gzip']);
    assert.equal(shown.kind, 'text');
    assert.equal(shown.truncated, true);
    assert.ok(shown.text!.length > 30000 && text.startsWith(shown.text!), 'the decoded beginning');
  });

  it('shows an undecodable body raw, with the reason', () => {
    const shown = show(Buffer.from('not gzip at all'), ['Content-Encoding', 'gzip']);
    assert.match(shown.decodeError ?? '', /./);
    assert.equal(shown.decodedFrom, undefined);
  });

  it('keeps images as base64 and other binary as hex', () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const image = show(png, ['Content-Type', 'image/png']);
    assert.equal(image.kind, 'image');
    assert.equal(Buffer.from(image.base64!, 'base64').toString('hex'), png.toString('hex'));
    const binary = show(Buffer.from([0, 1, 2, 255]), ['Content-Type', 'application/octet-stream']);
    assert.equal(binary.kind, 'binary');
    assert.equal(binary.hex, '000102ff');
    assert.equal(binary.size, 4);
  });

  it('says empty for no body', () => {
    assert.equal(show(Buffer.alloc(0), []).kind, 'empty');
  });
});
