/**
 * The sources a stream may be given as (`broker.call(…, { stream })`, an action's result), and
 * the one `ReadableStream` each becomes. Web-standard APIs only.
 *
 * @example A file, a fetch body, a generator or bytes
 * ```ts
 * import { toReadableStream } from "./stream_source.ts";
 *
 * async function* lines() {
 *   yield "a\n";
 *   yield "b\n";
 * }
 * const chunks = await Array.fromAsync(toReadableStream(lines()));
 * console.log(chunks); // ["a\n", "b\n"]
 * ```
 *
 * @module
 */

/**
 * What a stream may be given as: a `ReadableStream` (`(await Deno.open(path)).readable`,
 * `(await fetch(url)).body`), an async iterable (of `Uint8Array` chunks, or of objects for an
 * object-mode stream), or a `Uint8Array` (sent as one stream, cut into chunks).
 */
export type StreamSource = ReadableStream<unknown> | AsyncIterable<unknown> | Uint8Array;

/**
 * Whether a value is a stream to send (a `ReadableStream` or an async iterable); a `Uint8Array`,
 * a string or an array is a value.
 *
 * @param value Any value.
 * @returns True for a stream.
 */
export function isStream(value: unknown): value is ReadableStream | AsyncIterable<unknown> {
  if (typeof value !== "object" || value === null) return false;
  return value instanceof ReadableStream ||
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

/**
 * The `ReadableStream` of a stream source.
 *
 * @param source The source.
 * @returns The source itself when it is a `ReadableStream`, else a stream of its chunks.
 */
export function toReadableStream(source: StreamSource): ReadableStream<unknown> {
  if (source instanceof ReadableStream) return source;
  if (source instanceof Uint8Array) {
    return new ReadableStream({
      start(c) {
        if (source.byteLength > 0) c.enqueue(source);
        c.close();
      },
    });
  }
  return ReadableStream.from(source);
}
