/**
 * Id generation. Context ids are trace and span ids too: Moleculer's Zipkin, Jaeger, Datadog and
 * New Relic exporters cut them to their first 16 hex digits, so those 16 digits must differ from
 * one id to the next, and from the ids of every other process. They sit on the hot path of every
 * call, so they come from a counter run through a keyed permutation, not from a fresh random UUID.
 *
 * @module
 */

/** A random UUID (v4), used for instance ids. */
export function uuid(): string {
  return crypto.randomUUID();
}

/** Two lowercase hex digits for every byte. */
const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** The per-process keys of the permutation, and the tag that marks this process's ids. */
const KEYS = crypto.getRandomValues(new Uint32Array(5));
const K0 = KEYS[0]!, K1 = KEYS[1]!, K2 = KEYS[2]!, K3 = KEYS[3]!;
const TAG_BITS = KEYS[4]! & 0xffff;
const TAG = HEX[TAG_BITS >>> 8]! + HEX[TAG_BITS & 0xff]!;
/** 2^32, to split the counter into two 32-bit halves. */
const HI = 0x1_0000_0000;
/** The counter restarts past 2^48 (the 12 hex digits that carry it). */
const MAX_COUNTER = 2 ** 48 - 1;

let counter = 0;
/**
 * The two halves of the last permutation, set by `permute`. A typed array holds them unboxed: a
 * 32-bit value stored in a plain variable would be a heap number allocated per id.
 */
const OUT = new Int32Array(2);

/** A round function of the Feistel network: an integer hash of `x` under key `k`. */
function round(x: number, k: number): number {
  let h = Math.imul(x ^ k, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return h ^ (h >>> 13);
}

/**
 * A four-round Feistel network over 64 bits (`hi`, `lo`): a bijection for fixed keys, so two
 * counters never give the same 16 hex digits in this process, while each process's keys make its
 * sequence look random next to every other's.
 */
function permute(hi: number, lo: number): void {
  let l = hi, r = lo, t: number;
  t = l ^ round(r, K0);
  l = r;
  r = t;
  t = l ^ round(r, K1);
  l = r;
  r = t;
  t = l ^ round(r, K2);
  l = r;
  r = t;
  t = l ^ round(r, K3);
  OUT[0] = r;
  OUT[1] = t;
}

/** The char code of each lowercase hex digit, by value. */
const DIGIT = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** The char codes of the tag. */
const T0 = TAG.charCodeAt(0),
  T1 = TAG.charCodeAt(1),
  T2 = TAG.charCodeAt(2),
  T3 = TAG.charCodeAt(3);
/** `-`. */
const DASH = 45;
const fromCharCode = String.fromCharCode;

/**
 * A new context or packet id, shaped like a UUID (`8-4-4-4-12` lowercase hex digits) as
 * Moleculer's are. The first 16 digits are a permutation of a counter (unique in this process,
 * random-looking across processes), then comes a per-process tag and the counter itself.
 *
 * @returns The id.
 */
export function nextId(): string {
  if (++counter > MAX_COUNTER) counter = 1;
  const n = counter;
  const hi = n < HI ? 0 : Math.floor(n / HI);
  const lo = n >>> 0;
  permute(hi, lo);
  const l = OUT[0]!, r = OUT[1]!;
  // One flat string from its char codes: joined pieces would make a tree of ~8 strings (~280
  // bytes, not 48), which traced spans keep alive and every hashing of the id flattens.
  return fromCharCode(
    DIGIT[l >>> 28]!,
    DIGIT[(l >>> 24) & 15]!,
    DIGIT[(l >>> 20) & 15]!,
    DIGIT[(l >>> 16) & 15]!,
    DIGIT[(l >>> 12) & 15]!,
    DIGIT[(l >>> 8) & 15]!,
    DIGIT[(l >>> 4) & 15]!,
    DIGIT[l & 15]!,
    DASH,
    DIGIT[r >>> 28]!,
    DIGIT[(r >>> 24) & 15]!,
    DIGIT[(r >>> 20) & 15]!,
    DIGIT[(r >>> 16) & 15]!,
    DASH,
    DIGIT[(r >>> 12) & 15]!,
    DIGIT[(r >>> 8) & 15]!,
    DIGIT[(r >>> 4) & 15]!,
    DIGIT[r & 15]!,
    DASH,
    T0,
    T1,
    T2,
    T3,
    DASH,
    DIGIT[hi >>> 12]!,
    DIGIT[(hi >>> 8) & 15]!,
    DIGIT[(hi >>> 4) & 15]!,
    DIGIT[hi & 15]!,
    DIGIT[lo >>> 28]!,
    DIGIT[(lo >>> 24) & 15]!,
    DIGIT[(lo >>> 20) & 15]!,
    DIGIT[(lo >>> 16) & 15]!,
    DIGIT[(lo >>> 12) & 15]!,
    DIGIT[(lo >>> 8) & 15]!,
    DIGIT[(lo >>> 4) & 15]!,
    DIGIT[lo & 15]!,
  );
}

/** One lowercase hex digit's value, or a value that makes a 4-digit group negative. */
function digit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -0x10000;
}

/**
 * The value of the 4 lowercase hex digits of `id` at `at`, or a negative number when one is not
 * such a digit. 16 bits at a time, so every value stays a small integer.
 */
function hex16(id: string, at: number): number {
  return (digit(id.charCodeAt(at)) << 12) + (digit(id.charCodeAt(at + 1)) << 8) +
    (digit(id.charCodeAt(at + 2)) << 4) + digit(id.charCodeAt(at + 3));
}

/**
 * The counter inside an id made by {@linkcode nextId} in this process, or -1 for any other id.
 * The id must be exactly what `nextId` made for that counter (tag, permuted digits, dashes), so
 * two different strings never give the same counter, and hot maps may key by it: on V8 15 hashing
 * a freshly concatenated string costs ~200 ns per `Map.set`, a small integer next to nothing.
 *
 * @param id A context or packet id.
 * @returns The counter (≥ 1), or -1.
 */
export function idSeq(id: string): number {
  if (
    id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 ||
    id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45 || !id.startsWith(TAG, 19)
  ) return -1;
  const hi = hex16(id, 24);
  const lo1 = hex16(id, 28);
  const lo0 = hex16(id, 32);
  if (hi < 0 || lo1 < 0 || lo0 < 0) return -1;
  const lo = lo1 * 0x10000 + lo0;
  const n = hi * HI + lo;
  if (n < 1) return -1;
  permute(hi, lo);
  const l = OUT[0]!, r = OUT[1]!;
  return hex16(id, 0) === l >>> 16 && hex16(id, 4) === (l & 0xffff) &&
      hex16(id, 9) === r >>> 16 && hex16(id, 14) === (r & 0xffff)
    ? n
    : -1;
}
