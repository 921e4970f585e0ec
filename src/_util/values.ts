/**
 * Small value checks and conversions shared across the broker.
 *
 * @module
 */

/**
 * True for non-null, non-array objects.
 *
 * @param value Any value.
 * @returns Whether it can be read as a record.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The value as an `Error`: itself when it is one, else an `Error` with its text.
 *
 * @param error What was thrown.
 * @returns An `Error`.
 */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A value or a list as a list; `undefined` and `null` as an empty one.
 *
 * @param value One item, several, or none.
 * @returns The items.
 */
export function toArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * A value from a packet, safe to put in a log line: control characters escaped, cut at `max`.
 *
 * @param value Any value from a packet.
 * @param max The longest text kept.
 * @returns The text.
 */
export function printable(value: unknown, max = 64): string {
  let s: string;
  if (typeof value === "string") s = value;
  else if (value === null || typeof value !== "object") s = String(value);
  else s = Array.isArray(value) ? "[array]" : "[object]";
  if (s.length > max) s = `${s.slice(0, max)}…`;
  return s.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16)}`,
  );
}
