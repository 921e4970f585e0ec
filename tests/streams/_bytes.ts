/**
 * Deterministic bytes and their digest, for the stream tests; the Moleculer peer
 * (`tests/_helpers/peer/peer.mjs`, `makeBytes`) makes the same bytes from the same seed.
 *
 * @module
 */

/**
 * `n` pseudo-random bytes from `seed`.
 *
 * @param n How many.
 * @param seed The seed.
 * @returns The bytes.
 */
export function bytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/**
 * The SHA-256 of bytes, or of a whole byte stream, in hex.
 *
 * @param data The bytes or the stream.
 * @returns The hex digest.
 */
export async function sha256(
  data: Uint8Array | ReadableStream<Uint8Array>,
): Promise<string> {
  const all = data instanceof Uint8Array
    ? data
    : new Uint8Array(await new Response(data).arrayBuffer());
  const digest = await crypto.subtle.digest(
    "SHA-256",
    all as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}
