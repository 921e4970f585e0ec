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

/** The per-process keys of the permutation, and the tag that marks this process's ids. */
const KEYS = crypto.getRandomValues(new Uint32Array(5));
const K0 = KEYS[0]!, K1 = KEYS[1]!, K2 = KEYS[2]!, K3 = KEYS[3]!;
const TAG_BITS = KEYS[4]! & 0xffff;
const TAG = TAG_BITS.toString(16).padStart(4, "0");
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

/** The char code of each hex digit. */
const N = new Uint8Array(Array.from("0123456789abcdef", (c) => c.charCodeAt(0)));
/** The char codes of the tag. */
const T0 = TAG.charCodeAt(0),
  T1 = TAG.charCodeAt(1),
  T2 = TAG.charCodeAt(2),
  T3 = TAG.charCodeAt(3);

/**
 * A new context or packet id, shaped like a UUID (`8-4-4-4-12` lowercase hex digits) as
 * Moleculer's are. The first 16 digits are a permutation of a counter (unique in this process,
 * random-looking across processes), then comes a per-process tag and the counter itself.
 * Made in one `String.fromCharCode`: a flat string, where joining pieces would give a rope that
 * every later read (hashing, `charCodeAt`, serializing) first has to flatten.
 *
 * @returns The id.
 */
export function nextId(): string {
  if (++counter > MAX_COUNTER) counter = 1;
  const n = counter;
  const hi = n < HI ? 0 : Math.floor(n / HI);
  const lo = n >>> 0;
  permute(hi, lo);
  const a = OUT[0]!, r = OUT[1]!;
  return String.fromCharCode(
    N[(a >>> 28) & 15]!,
    N[(a >>> 24) & 15]!,
    N[(a >>> 20) & 15]!,
    N[(a >>> 16) & 15]!,
    N[(a >>> 12) & 15]!,
    N[(a >>> 8) & 15]!,
    N[(a >>> 4) & 15]!,
    N[a & 15]!,
    45,
    N[(r >>> 28) & 15]!,
    N[(r >>> 24) & 15]!,
    N[(r >>> 20) & 15]!,
    N[(r >>> 16) & 15]!,
    45,
    N[(r >>> 12) & 15]!,
    N[(r >>> 8) & 15]!,
    N[(r >>> 4) & 15]!,
    N[r & 15]!,
    45,
    T0,
    T1,
    T2,
    T3,
    45,
    N[(hi >>> 12) & 15]!,
    N[(hi >>> 8) & 15]!,
    N[(hi >>> 4) & 15]!,
    N[hi & 15]!,
    N[(lo >>> 28) & 15]!,
    N[(lo >>> 24) & 15]!,
    N[(lo >>> 20) & 15]!,
    N[(lo >>> 16) & 15]!,
    N[(lo >>> 12) & 15]!,
    N[(lo >>> 8) & 15]!,
    N[(lo >>> 4) & 15]!,
    N[lo & 15]!,
  );
}

/** The value of each lowercase hex digit by char code, -1 for every other ASCII char. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE[N[i]!] = i;

/** The value of the lowercase hex digits of `id` from `at` to `end` (≤ 8 of them), or -1. */
function hexAt(id: string, at: number, end: number): number {
  let v = 0;
  for (let i = at; i < end; i++) {
    const c = id.charCodeAt(i);
    const d = c < 128 ? HEX_VALUE[c]! : -1;
    if (d < 0) return -1;
    v = ((v << 4) | d) >>> 0;
  }
  return v;
}

/**
 * The counter an id made by {@linkcode nextId} in this process carries in its last 12 digits, or
 * -1 when `id` does not have that shape or this process's tag. A cheap hint for hot maps keyed by
 * small integers (on V8 15 hashing a freshly made string costs far more than a number key): it
 * does not check the permuted digits, so another string can give the same counter, and a map
 * keyed by it must compare the stored id with `id` before trusting a hit.
 *
 * @param id A context or packet id.
 * @returns The counter (≥ 1), or -1.
 */
export function idCounter(id: string): number {
  if (
    id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 ||
    id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45 || !id.startsWith(TAG, 19)
  ) return -1;
  const hi = hexAt(id, 24, 28);
  const lo = hexAt(id, 28, 36);
  if (hi < 0 || lo < 0) return -1;
  const n = hi * HI + lo;
  return n < 1 ? -1 : n;
}
