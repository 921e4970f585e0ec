/**
 * Several calls at once: `broker.mcall` and `ctx.mcall`, Moleculer's multi-call.
 *
 * A definition is an array of calls (results come back in the same order) or an object of named
 * calls (results come back under the same keys). With `settled: true` no call's failure rejects
 * the whole: every call reports `{status: "fulfilled", value}` or `{status: "rejected", reason}`.
 *
 * Two choices differ from Moleculer, where its behaviour loses information:
 * - a call's own `options` are merged over the shared options, option by option (a call's `meta`
 *   replaces the shared `meta`); Moleculer replaces the shared options whole, which drops
 *   `parentCtx` and the shared timeout for that call;
 * - in the object form with `settled: true` each key holds its settled result (Moleculer keeps
 *   the values of the calls that succeeded and silently leaves the others out).
 *
 * @module
 */

import type { CallOptions } from "./context.ts";
import { MoleculerServerError } from "../errors.ts";

/** One call of a multi-call. */
export interface MCallDefinition {
  /** Full action name, e.g. `"posts.find"`. */
  action: string;
  /** Params of the call. */
  params?: unknown;
  /** Options of this call, merged option by option over the shared options given to `mcall`. */
  options?: CallOptions;
}

/** Options of `mcall`: call options shared by every call, plus `settled`. */
export interface MCallOptions extends CallOptions {
  /**
   * `true`: wait for every call and report each outcome (`PromiseSettledResult`) instead of
   * rejecting with the first error.
   *
   * @default {false}
   */
  settled?: boolean;
}

/** The calls of a multi-call: a list, or named calls. */
export type MCallDefinitions = MCallDefinition[] | Record<string, MCallDefinition>;

/** How `mcall` performs one call: `broker.call`. */
export type CallFn = (action: string, params: unknown, opts: CallOptions) => Promise<unknown>;

function invalid(message: string, data?: unknown): MoleculerServerError {
  return new MoleculerServerError(message, 500, "INVALID_PARAMETERS", data);
}

function check(item: unknown, where: string): MCallDefinition {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw invalid(
      `Invalid calling definition: ${where} must be an object like ` +
        `{ action: "posts.find", params: {} }`,
      { item: where },
    );
  }
  const { action, options } = item as Partial<MCallDefinition>;
  if (typeof action !== "string" || action === "") {
    throw invalid(`Invalid calling definition: ${where} needs an action name`, { item: where });
  }
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw invalid(`Invalid calling definition: the options of ${where} must be an object`, {
      item: where,
    });
  }
  return item as MCallDefinition;
}

/**
 * Run a multi-call with `call`. The definition is checked before any call starts, so a bad one
 * calls nothing.
 *
 * @param call Performs one call (the broker's `call`).
 * @param def The calls: an array, or an object of named calls.
 * @param opts Shared call options, and `settled`.
 * @returns The results in the shape of `def`; settled results with `settled: true`.
 * @throws {MoleculerServerError} (`INVALID_PARAMETERS`) when `def` is neither an array nor an
 *   object of calls, or a call has no action name; otherwise the first call's error unless
 *   `settled`.
 */
export function runMCall(
  call: CallFn,
  def: MCallDefinitions,
  opts: MCallOptions = {},
): Promise<unknown> {
  const { settled = false, ...shared } = opts;
  let entries: [string | number, MCallDefinition][];
  try {
    if (Array.isArray(def)) {
      entries = def.map((item, i) => [i, check(item, `item ${i}`)]);
    } else if (typeof def === "object" && def !== null) {
      entries = Object.entries(def).map(([key, item]) => [key, check(item, `"${key}"`)]);
    } else {
      throw invalid("Invalid calling definition: expected an array or an object of calls");
    }
  } catch (err) {
    return Promise.reject(err);
  }
  const promises = entries.map(([, item]) =>
    call(item.action, item.params, item.options ? { ...shared, ...item.options } : shared)
  );
  const all: Promise<unknown[]> = settled ? Promise.allSettled(promises) : Promise.all(promises);
  if (Array.isArray(def)) return all;
  return all.then((results) => Object.fromEntries(entries.map(([key], i) => [key, results[i]])));
}
