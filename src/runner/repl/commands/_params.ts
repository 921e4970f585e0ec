/**
 * Where `call`, `dcall`, `emit`, `broadcast` and `bench` take their params from: `--key value`
 * words, a JSON argument, or `@file.json`; `--#key` words are meta and `--$key` words options.
 *
 * @module
 */

import { resolve } from "node:path";
import { ReplUsageError, splitParams } from "../line_args.ts";

/** Params, meta and options of one call or event. */
export interface Payload {
  /** The params (or event payload). */
  params: unknown;
  /** The meta. */
  meta: Record<string, unknown>;
  /** Call or emit options (`--$timeout 500` → `{ timeout: 500 }`). */
  options: Record<string, unknown>;
}

/**
 * A JSON argument, or the JSON file it names with `@`.
 *
 * @param text The argument.
 * @param what What it is, for the error.
 * @param cwd The directory `@` paths are relative to.
 * @returns The value.
 * @throws {ReplUsageError} when the file is missing or the JSON is bad.
 */
export async function jsonArgument(text: string, what: string, cwd: string): Promise<unknown> {
  let source = text;
  let where = `the ${what} argument`;
  if (text.startsWith("@")) {
    const file = resolve(cwd, text.slice(1));
    where = `'${file}'`;
    try {
      source = await Deno.readTextFile(file);
    } catch {
      throw new ReplUsageError(`${what} file not found: ${file}`);
    }
  }
  try {
    return JSON.parse(source);
  } catch (err) {
    throw new ReplUsageError(
      `${where} is not valid JSON (${(err as Error).message}); quote it: '{"a": 1}', ` +
        `or pass params as --a 1`,
    );
  }
}

/**
 * The payload of a command: free params split by prefix, replaced by a JSON (or `@file`)
 * argument when one is given, meta replaced by a meta argument.
 *
 * @param free The free `--key value` params.
 * @param json The params argument, if any.
 * @param metaJson The meta argument, if any.
 * @param cwd The directory `@` paths are relative to.
 * @returns The payload.
 */
export async function payloadOf(
  free: Record<string, unknown>,
  json: string | undefined,
  metaJson: string | undefined,
  cwd: string,
): Promise<Payload> {
  const split = splitParams(free);
  let params: unknown = split.params;
  let meta = split.meta;
  if (json !== undefined) params = await jsonArgument(json, "params", cwd);
  if (metaJson !== undefined) {
    const m = await jsonArgument(metaJson, "meta", cwd);
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      throw new ReplUsageError("the meta argument must be a JSON object");
    }
    meta = m as Record<string, unknown>;
  }
  return { params, meta, options: split.options };
}
