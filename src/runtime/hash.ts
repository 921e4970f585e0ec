/**
 * Synchronous digests for cache keys and shard placement. Moleculer's keys and shard rings are
 * defined by these exact digests (MD5 and SHA-256 of the UTF-8 text), and Web Crypto's `digest` is
 * async and has no MD5. They are written here, in a few lines each, rather than taken from
 * `node:crypto`: importing that module costs every process a few MB of memory (it brings Node's
 * streams along), and its `createHash` ~2–3 µs per digest.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * The message being digested, padded: one buffer, reused (an `ArrayBuffer` per digest would cost
 * more than the digest of a short key), grown for a longer text.
 */
let buf = new Uint8Array(1024);
let view = new DataView(buf.buffer);

/**
 * Put the UTF-8 bytes of `text` in `buf`, padded as MD5 and SHA-256 pad them: a 1 bit, zeros,
 * then the length in bits as 64 bits (little-endian for MD5, big-endian for SHA-256).
 *
 * @returns The padded length, a multiple of 64.
 */
function pad(text: string, littleEndian: boolean): number {
  // A UTF-16 unit is at most 3 bytes of UTF-8; the padding at most 72.
  const max = text.length * 3 + 72;
  if (max > buf.length) {
    buf = new Uint8Array(2 ** Math.ceil(Math.log2(max)));
    view = new DataView(buf.buffer);
  }
  const length = encoder.encodeInto(text, buf).written;
  const end = Math.ceil((length + 9) / 64) * 64;
  buf.fill(0, length, end);
  buf[length] = 0x80;
  const bits = length * 8;
  const low = bits >>> 0;
  const high = Math.floor(bits / 0x1_0000_0000);
  if (littleEndian) {
    view.setUint32(end - 8, low, true);
    view.setUint32(end - 4, high, true);
  } else {
    view.setUint32(end - 8, high);
    view.setUint32(end - 4, low);
  }
  return end;
}

/** MD5's per-step constants, `floor(|sin(i + 1)| × 2^32)` (RFC 1321). */
const MD5_K = Int32Array.from({ length: 64 }, (_, i) => Math.abs(Math.sin(i + 1)) * 2 ** 32);
/** MD5's left rotation of each step: four per round, in each of its 16 steps. */
const MD5_ROTATIONS = [[7, 12, 17, 22], [5, 9, 14, 20], [4, 11, 16, 23], [6, 10, 15, 21]];
const MD5_S = Uint8Array.from({ length: 64 }, (_, i) => MD5_ROTATIONS[i >> 4]![i & 3]!);
/** The words of the block being digested. */
const MD5_WORDS = new Int32Array(16);

/**
 * The MD5 digest of a string (UTF-8).
 *
 * @param text The input.
 * @returns The 16 bytes.
 *
 * @example
 * ```ts
 * import { md5 } from "./hash.ts";
 *
 * const hex = Array.from(md5("abc"), (b) => b.toString(16).padStart(2, "0")).join("");
 * console.log(hex); // "900150983cd24fb0d6963f7d28e17f72"
 * ```
 */
export function md5(text: string): Uint8Array {
  const end = pad(text, true);
  const m = MD5_WORDS;
  let a0 = 0x67452301, b0 = 0xefcdab89 | 0, c0 = 0x98badcfe | 0, d0 = 0x10325476;
  for (let at = 0; at < end; at += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getInt32(at + i * 4, true);
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      f = (f + a + MD5_K[i]! + m[g]!) | 0;
      a = d;
      d = c;
      c = b;
      const s = MD5_S[i]!;
      b = (b + ((f << s) | (f >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const out = new Uint8Array(16);
  const words = [a0, b0, c0, d0];
  for (let i = 0; i < 16; i++) out[i] = words[i >> 2]! >>> ((i & 3) * 8);
  return out;
}

/** The first 32 bits of the fractional part of `x`. */
const fraction32 = (x: number): number => Math.floor((x - Math.floor(x)) * 2 ** 32) | 0;
/** The first 64 primes. */
const PRIMES = (() => {
  const primes: number[] = [];
  for (let n = 2; primes.length < 64; n++) {
    if (primes.every((p) => n % p !== 0)) primes.push(n);
  }
  return primes;
})();
/** SHA-256's round constants: cube roots of the first 64 primes (FIPS 180-4). */
const SHA_K = Int32Array.from(PRIMES, (p) => fraction32(Math.cbrt(p)));
/** SHA-256's initial hash: square roots of the first 8 primes. */
const SHA_H = Int32Array.from(PRIMES.slice(0, 8), (p) => fraction32(Math.sqrt(p)));
/** The hash being computed, and the message schedule of the block being digested. */
const SHA_STATE = new Int32Array(8);
const SHA_WORDS = new Int32Array(64);

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/**
 * The SHA-256 digest of a string (UTF-8), base64-encoded.
 *
 * @param text The input.
 * @returns 44 characters.
 *
 * @example
 * ```ts
 * import { sha256Base64 } from "./hash.ts";
 *
 * console.log(sha256Base64("abc")); // "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
 * ```
 */
export function sha256Base64(text: string): string {
  const end = pad(text, false);
  const h = SHA_STATE;
  h.set(SHA_H);
  const w = SHA_WORDS;
  for (let at = 0; at < end; at += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(at + i * 4);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!, y = w[i - 2]!;
      const s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
      const s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, k = h[7]!;
    for (let i = 0; i < 64; i++) {
      const t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
        SHA_K[i]! + w[i]!) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + k;
  }
  let binary = "";
  for (let i = 0; i < 8; i++) {
    const v = h[i]!;
    binary += String.fromCharCode(v >>> 24 & 255, v >>> 16 & 255, v >>> 8 & 255, v & 255);
  }
  return btoa(binary);
}
