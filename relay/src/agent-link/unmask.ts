/**
 * Unmasks client frame bytes in place (RFC 6455 5.3), with the native `bufferutil` when it is
 * installed (an optional dependency, as for `ws`) and a byte loop otherwise. The agent masks with
 * zeros (relay-connection.ts generateMask), which needs no work at all.
 */
type Unmask = (bytes: Buffer, mask: Buffer) => void;

const byByte: Unmask = (bytes, mask) => {
  for (let i = 0; i < bytes.length; i++) bytes[i] ^= mask[i & 3];
};

function loadNative(): Unmask | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('bufferutil') as { unmask: Unmask }).unmask;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Unmasks `bytes`, which start `offset` bytes into their frame's payload. */
export function unmaskInPlace(bytes: Buffer, mask: Buffer, offset: number): void {
  if (bytes.length === 0 || mask.readUInt32BE(0) === 0) return;
  const key = offset % 4 === 0 ? mask : rotated(mask, offset % 4);
  if (native && bytes.length >= 32) native(bytes, key);
  else byByte(bytes, key);
}

function rotated(mask: Buffer, by: number): Buffer {
  const key = Buffer.allocUnsafe(4);
  for (let i = 0; i < 4; i++) key[i] = mask[(i + by) % 4];
  return key;
}
