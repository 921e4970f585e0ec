/**
 * The platform side of logging: how Moleculer's formatters print an object, and where its
 * Console logger writes. Kept apart so the rest of logging stays web-standard.
 *
 * @module
 */

import { inspect } from "node:util";

/**
 * Print a logged object as Moleculer's formatted loggers do (`util.inspect`, depth 2, on one
 * line, no colours): `{ id: 5 }`, an Error with its stack.
 *
 * @param value The object.
 * @returns Its text.
 */
export function inspectValue(value: unknown): string {
  return inspect(value, {
    showHidden: false,
    depth: 2,
    colors: false,
    breakLength: Number.POSITIVE_INFINITY,
  });
}

/**
 * Write one formatted line the way Moleculer's Console logger does: `warn` to `console.warn`,
 * `error` and `fatal` to `console.error`, the rest to `console.log`.
 *
 * @param level The record's level.
 * @param line The line.
 */
export function consoleWrite(level: string, line: string): void {
  if (level === "error" || level === "fatal") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
