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
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return PREFIX + counter.toString(36);
}
