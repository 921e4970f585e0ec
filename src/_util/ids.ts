/**
 * Id generation. Context ids sit on the hot path of every call, so they come
 * from a per-process random prefix and a counter rather than a fresh UUID each.
 *
 * @module
 */

/** A random UUID (v4), used for instance ids. */
export function uuid(): string {
  return crypto.randomUUID();
}

const PREFIX = crypto.randomUUID().slice(0, 18);
let counter = 0;

/**
 * A process-unique, cluster-unique-in-practice id for a context or packet:
 * a random 72-bit prefix chosen at start-up plus a counter.
 */
export function nextId(): string {
  // Base 10 without a float modulo: cheaper, and lets `idSeq` read the counter back.
  if (++counter >= Number.MAX_SAFE_INTEGER) counter = 1;
  return PREFIX + counter;
}

/**
 * The counter inside an id made by {@linkcode nextId} in this process, or -1 for any other id
 * (another prefix, leading zeros, anything but digits after the prefix). Two different strings
 * never give the same counter, so hot maps may key by it: on V8 15 hashing a freshly
 * concatenated string costs ~200 ns per `Map.set`, a small integer next to nothing.
 *
 * @param id A context or packet id.
 * @returns The counter (≥ 1), or -1.
 */
export function idSeq(id: string): number {
  const len = id.length;
  const start = PREFIX.length;
  if (len <= start || len > start + 16 || !id.startsWith(PREFIX)) return -1;
  if (id.charCodeAt(start) === 48 /* 0 */) return -1;
  let n = 0;
  for (let i = start; i < len; i++) {
    const d = id.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n < Number.MAX_SAFE_INTEGER ? n : -1;
}
