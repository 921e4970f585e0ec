/**
 * `broker.Promise`: Moleculer's promise helpers (`delay`, `timeout`, `method`, `map`,
 * `mapSeries`) on a subclass of the global `Promise`, so the global stays untouched; or, when
 * the broker option `Promise` names a class, the same helpers added to that class (Moleculer's
 * `polyfillPromise`, an explicit opt-in).
 *
 * @module
 */

import type { BrokerPromiseConstructor, PromiseHelpers } from "../core/broker_api.ts";

/** The rejection of `p.timeout(ms)`: an `Error` named `TimeoutError`, as Moleculer's. */
function timeoutError(message: string): Error {
  const err = new Error(message);
  err.name = "TimeoutError";
  return err;
}

/** Instance helpers Moleculer adds to promises: `p.delay(ms)`, `p.timeout(ms)`. */
export interface PromiseInstanceHelpers<T> {
  /** Resolve with the same value `ms` milliseconds later. */
  delay(ms: number): Promise<T>;
  /** Reject with `TimeoutError` (or `error`) when not settled within `ms` milliseconds. */
  timeout(ms: number, error?: Error | string): Promise<T>;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function timeout<T>(p: Promise<T>, ms: number, error?: Error | string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expire = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(error instanceof Error ? error : timeoutError(error ?? "Timed out"));
    }, ms);
  });
  return Promise.race([p, expire]).finally(() => clearTimeout(timer));
}

async function map<T, R>(
  items: Iterable<T | PromiseLike<T>>,
  fn: (item: T, index: number) => R | PromiseLike<R>,
  opts: { concurrency?: number } = {},
): Promise<R[]> {
  const list = await Promise.all(items);
  const limit = opts.concurrency && opts.concurrency > 0 ? opts.concurrency : list.length;
  const out = new Array<R>(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      out[i] = await fn(list[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, worker));
  return out;
}

async function mapSeries<T, R>(
  items: Iterable<T | PromiseLike<T>>,
  fn: (item: T, index: number) => R | PromiseLike<R>,
): Promise<R[]> {
  const out: R[] = [];
  let i = 0;
  for (const item of items) out.push(await fn(await item, i++));
  return out;
}

const statics: PromiseHelpers = {
  delay,
  // deno-lint-ignore no-explicit-any
  method<A extends any[], R>(fn: (...args: A) => R) {
    return function (this: unknown, ...args: A): Promise<Awaited<R>> {
      try {
        return Promise.resolve(fn.apply(this, args)) as Promise<Awaited<R>>;
      } catch (err) {
        return Promise.reject(err);
      }
    };
  },
  map,
  mapSeries,
};

/**
 * Add Moleculer's helpers to a promise class, where it lacks them (Moleculer's
 * `polyfillPromise`).
 *
 * @param P The class.
 * @returns The same class, with the helpers.
 */
export function addPromiseHelpers(P: PromiseConstructor): BrokerPromiseConstructor {
  const target = P as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(statics)) {
    if (typeof target[name] !== "function") target[name] = fn;
  }
  const proto = P.prototype as unknown as Record<string, unknown>;
  if (typeof proto.delay !== "function") {
    proto.delay = function (this: Promise<unknown>, ms: number) {
      return this.then((value) => delay(ms).then(() => value));
    };
  }
  if (typeof proto.timeout !== "function") {
    proto.timeout = function (this: Promise<unknown>, ms: number, error?: Error | string) {
      return timeout(this, ms, error);
    };
  }
  return P as BrokerPromiseConstructor;
}

/** The default `broker.Promise`: a subclass of the global `Promise`, which stays untouched. */
export const BrokerPromise: BrokerPromiseConstructor = addPromiseHelpers(
  class BrokerPromise<T> extends Promise<T> {} as unknown as PromiseConstructor,
);
