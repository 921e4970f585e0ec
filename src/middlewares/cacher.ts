/**
 * Built-in middleware: response caching of local actions with a `cache` definition, through the
 * broker's cacher.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Logger } from "../logging.ts";
import type { ActionInfo, Handler, MiddlewareHooks } from "../core/middleware.ts";
import type { Cacher } from "../core/cacher.ts";
import { MemoryCacher } from "../cachers/memory.ts";
import { show } from "../cachers/_options.ts";
import { ServiceSchemaError } from "../errors.ts";
import { isPromiseLike } from "../_util/async.ts";

// deno-lint-ignore no-explicit-any
type EnabledFn = (this: any, ctx: Context) => boolean;

interface ActionCache {
  readonly keys: readonly string[] | undefined;
  readonly ttl: number | undefined;
  readonly enabled: EnabledFn | undefined;
}

const CACHE_KEYS = new Set(["keys", "ttl", "enabled"]);

/**
 * The `cache` of an action, checked; null when the action is not cached.
 *
 * @throws {ServiceSchemaError} naming the part that is wrong.
 */
function actionCache(action: ActionInfo): ActionCache | null {
  const def = action.schema.cache;
  if (def === undefined || def === null || def === false) return null;
  if (def === true) {
    return { keys: undefined, ttl: undefined, enabled: undefined };
  }
  const where = `The cache of action '${action.name}'`;
  if (typeof def !== "object" || Array.isArray(def)) {
    throw new ServiceSchemaError(
      `${where} must be true, false or { keys, ttl, enabled }, got ${show(def)}`,
      { action: action.name },
    );
  }
  const { keys, ttl, enabled } = def as Record<string, unknown>;
  for (const key of Object.keys(def)) {
    if (!CACHE_KEYS.has(key)) {
      throw new ServiceSchemaError(
        `${where} has an unknown option '${key}'; known: keys, ttl, enabled`,
        { action: action.name, option: key },
      );
    }
  }
  if (enabled === false) return null;
  if (
    enabled !== undefined && enabled !== true && typeof enabled !== "function"
  ) {
    throw new ServiceSchemaError(
      `${where}: 'enabled' must be true, false or a function (ctx) => boolean, got ${
        show(enabled)
      }`,
      { action: action.name },
    );
  }
  if (
    keys !== undefined &&
    !(Array.isArray(keys) && keys.every((k) => typeof k === "string"))
  ) {
    throw new ServiceSchemaError(
      `${where}: 'keys' must be an array of params paths, '#meta' or '@header' paths, got ${
        show(keys)
      }`,
      { action: action.name },
    );
  }
  if (
    ttl !== undefined && ttl !== null &&
    (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl < 0)
  ) {
    throw new ServiceSchemaError(
      `${where}: 'ttl' must be a number of seconds ≥ 0 (0 = no expiry), got ${show(ttl)}`,
      { action: action.name },
    );
  }
  return {
    keys: keys === undefined ? undefined : [...keys as string[]],
    ttl: typeof ttl === "number" ? ttl : undefined,
    enabled: typeof enabled === "function" ? enabled as EnabledFn : undefined,
  };
}

/**
 * The cacher middleware. Only local actions with a `cache` definition are wrapped, for calls
 * made on this node and requests from other nodes alike (so a result is cached on the node that
 * serves the action). For a call it computes the key; a hit answers with the stored value and
 * sets `ctx.cachedResult`; a miss runs the handler and stores its result (never an error, never
 * `undefined`) with the action's `ttl`, else the cacher's. `ctx.meta.$cache === false` or an
 * `enabled` function returning false bypass the cache for that call.
 *
 * A cacher that fails to read or write is logged and the call is answered by the handler: a
 * cache never turns a working action into a failing one.
 *
 * @param cacher The broker's cacher.
 * @param logger Where cacher failures are logged.
 * @returns The middleware.
 * @throws {ServiceSchemaError} (when a service is registered) for a malformed `cache`.
 *
 * @example
 * ```ts ignore
 * broker.middlewares.add(cacherMiddleware(new MemoryCacher({ ttl: 30 }), broker.logger));
 * ```
 */
export function cacherMiddleware(
  cacher: Cacher,
  logger: Logger,
): MiddlewareHooks {
  const store = (
    key: string,
    value: unknown,
    ttl: number | undefined,
  ): void => {
    if (value === undefined) return;
    const failed = (err: unknown) => logger.warn(`Cannot store the cache entry '${key}'`, err);
    try {
      const done = cacher.set(key, value, ttl);
      // Not awaited: the caller gets its result as soon as the handler has it, as in Moleculer.
      if (isPromiseLike(done)) (done as Promise<void>).then(undefined, failed);
    } catch (err) {
      failed(err);
    }
  };

  const hooks: MiddlewareHooks = {
    name: "Cacher",
    localAction(next: Handler, action: ActionInfo): Handler {
      const opts = actionCache(action);
      if (!opts) return next;
      const { keys, ttl, enabled } = opts;
      const service = action.service;

      const miss = (ctx: Context, key: string): unknown => {
        // No lock: concurrent misses of one key each run the handler and the last result
        // written wins. Moleculer's `lock` option is not supported.
        const result = next(ctx);
        if (!isPromiseLike(result)) {
          store(key, result, ttl);
          return result;
        }
        return (result as Promise<unknown>).then((value) => {
          store(key, value, ttl);
          return value;
        });
      };
      const hit = (ctx: Context, key: string, value: unknown): unknown => {
        if (value === undefined) return miss(ctx, key);
        ctx.cachedResult = true;
        return value;
      };
      const unreadable = (ctx: Context, key: string, err: unknown): unknown => {
        logger.warn(
          `Cannot read the cache entry '${key}': calling the handler`,
          err,
        );
        return miss(ctx, key);
      };

      return (ctx: Context) => {
        if (enabled && !enabled.call(service, ctx)) return next(ctx);
        if (ctx.meta.$cache === false) return next(ctx);
        const key = cacher.getCacheKey(
          action.name,
          ctx.params,
          ctx.meta,
          keys,
          ctx.headers,
        );
        let found: unknown;
        try {
          found = cacher.get(key);
        } catch (err) {
          return unreadable(ctx, key, err);
        }
        if (!isPromiseLike(found)) return hit(ctx, key, found);
        return (found as Promise<unknown>).then(
          (value) => hit(ctx, key, value),
          (err) => unreadable(ctx, key, err),
        );
      };
    },
  };
  if (cacher instanceof MemoryCacher) {
    // Moleculer's memory cachers forget everything when the transporter (re)connects: while it
    // was away, the events that services send to clean caches cluster-wide may have been missed.
    hooks.broadcastLocal = (next) => (name, data, opts) => {
      if (name === "$transporter.connected") cacher.clean();
      return next(name, data, opts);
    };
  }
  return hooks;
}
