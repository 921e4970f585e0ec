/**
 * MD5 (RFC 1321) in plain TypeScript, synchronous and runtime-neutral. Used
 * only by the Shard strategy to place keys exactly where Moleculer places
 * them; not for anything security-related.
 *
 * @module
 */

const SHIFTS = [
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
];

const K = Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0,
);

const encoder = new TextEncoder();

/**
 * The MD5 digest of a string (UTF-8) or bytes.
 *
 * @param input The data.
 * @returns The 16-byte digest.
 */
export function md5(input: string | Uint8Array): Uint8Array {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const len = bytes.length;
  const blocks = ((len + 8) >>> 6) + 1;
  const words = new Int32Array(blocks * 16);
  for (let i = 0; i < len; i++) words[i >> 2]! |= bytes[i]! << ((i % 4) * 8);
  words[len >> 2]! |= 0x80 << ((len % 4) * 8);
  words[blocks * 16 - 2] = (len * 8) | 0;
  words[blocks * 16 - 1] = Math.floor(len / 0x20000000) | 0;
  let a0 = 0x67452301 | 0;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476 | 0;
  for (let block = 0; block < blocks; block++) {
    const base = block * 16;
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      f = (f + a + K[i]! + words[base + g]!) | 0;
      a = d;
      d = c;
      c = b;
      const s = SHIFTS[i]!;
      b = (b + ((f << s) | (f >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setInt32(0, a0, true);
  view.setInt32(4, b0, true);
  view.setInt32(8, c0, true);
  view.setInt32(12, d0, true);
  return out;
}
