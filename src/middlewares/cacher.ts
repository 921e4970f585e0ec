/**
 * Built-in middleware: response caching of local actions with a `cache` definition, through the
 * broker's cacher.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Logger } from "../logging.ts";
import type { ActionInfo, Handler, MiddlewareHooks } from "../core/middleware.ts";
import type { CacheLock, Cacher } from "../core/cacher.ts";
import { MemoryCacher } from "../cachers/memory.ts";
import { show } from "../cachers/_options.ts";
import { ServiceSchemaError } from "../errors.ts";
import { isPromiseLike } from "../_util/async.ts";

// deno-lint-ignore no-explicit-any
type EnabledFn = (this: any, ctx: Context) => boolean;

/** An action's `cache.lock`, Moleculer's: concurrent misses of a key wait for one handler. */
interface LockOptions {
  /** Milliseconds the lock lives unless released. */
  readonly ttl: number | undefined;
  /** Seconds of ttl left under which a hit is refreshed in the background (needs getWithTTL). */
  readonly staleTime: number | undefined;
}

interface ActionCache {
  readonly keys: readonly string[] | undefined;
  readonly ttl: number | undefined;
  readonly enabled: EnabledFn | undefined;
  readonly lock: LockOptions | undefined;
}

const CACHE_KEYS = new Set(["keys", "ttl", "enabled", "lock"]);
const LOCK_KEYS = new Set(["enabled", "ttl", "staleTime"]);

function lockOptions(where: string, action: string, lock: unknown): LockOptions | undefined {
  if (lock === undefined || lock === null || lock === false) return undefined;
  if (lock === true) return { ttl: undefined, staleTime: undefined };
  const fail = (what: string): never => {
    throw new ServiceSchemaError(`${where}: 'lock' ${what}`, { action, option: "lock" });
  };
  if (typeof lock !== "object" || Array.isArray(lock)) {
    fail(`must be true, false or { enabled, ttl, staleTime }, got ${show(lock)}`);
  }
  const { enabled, ttl, staleTime } = lock as Record<string, unknown>;
  for (const key of Object.keys(lock as object)) {
    if (!LOCK_KEYS.has(key)) fail(`has an unknown option '${key}'; known: enabled, ttl, staleTime`);
  }
  if (enabled === false) return undefined;
  for (const [name, value] of [["ttl", ttl], ["staleTime", staleTime]] as const) {
    if (value !== undefined && (typeof value !== "number" || !(value > 0))) {
      fail(`'${name}' must be a number > 0, got ${show(value)}`);
    }
  }
  return { ttl: ttl as number | undefined, staleTime: staleTime as number | undefined };
}

/** Locks by key within this process, for cachers without a `lock` of their own. */
function localLocks(): (key: string) => Promise<CacheLock> {
  const held = new Map<string, Promise<void>>();
  return async (key) => {
    while (held.has(key)) await held.get(key);
    let release!: () => void;
    held.set(key, new Promise<void>((resolve) => release = resolve));
    return () => {
      held.delete(key);
      release();
      return Promise.resolve();
    };
  };
}

/**
 * The `cache` of an action, checked; null when the action is not cached.
 *
 * @throws {ServiceSchemaError} naming the part that is wrong.
 */
function actionCache(action: ActionInfo): ActionCache | null {
  const def = action.schema.cache;
  if (def === undefined || def === null || def === false) return null;
  if (def === true) {
    return { keys: undefined, ttl: undefined, enabled: undefined, lock: undefined };
  }
  const where = `The cache of action '${action.name}'`;
  if (typeof def !== "object" || Array.isArray(def)) {
    throw new ServiceSchemaError(
      `${where} must be true, false or { keys, ttl, enabled }, got ${show(def)}`,
      { action: action.name },
    );
  }
  const { keys, ttl, enabled, lock } = def as Record<string, unknown>;
  for (const key of Object.keys(def)) {
    if (!CACHE_KEYS.has(key)) {
      throw new ServiceSchemaError(
        `${where} has an unknown option '${key}'; known: keys, ttl, enabled, lock`,
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
    lock: lockOptions(where, action.name, lock),
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

  const missing = cacher.missingResponse;
  const isMissing = (value: unknown) => value === undefined || value === missing;
  const takeLock = cacher.lock ? cacher.lock.bind(cacher) : localLocks();

  /**
   * Moleculer's `middlewareWithLock`: a miss takes the key's lock, reads again (another holder
   * may have filled it meanwhile), and only then runs the handler; the lock is released once
   * the result is stored. With `staleTime`, a hit whose ttl is running out is refreshed in the
   * background by whoever gets the lock first.
   */
  const withLock = async (
    ctx: Context,
    key: string,
    next: Handler,
    ttl: number | undefined,
    lock: LockOptions,
  ): Promise<unknown> => {
    let found: unknown;
    if (lock.staleTime !== undefined && cacher.getWithTTL && cacher.tryLock) {
      const { data, ttl: left } = await cacher.getWithTTL(key);
      if (
        data !== null && data !== undefined && left !== null && left > 0 && left < lock.staleTime
      ) {
        cacher.tryLock(key, lock.ttl).then(async (unlock) => {
          try {
            await cacher.set(key, await next(ctx), ttl);
          } catch {
            await cacher.del(key);
          } finally {
            await unlock();
          }
        }, () => {/* being refreshed elsewhere */});
      }
      found = data === null ? missing : data;
    } else {
      found = await cacher.get(key);
    }
    if (!isMissing(found)) {
      ctx.cachedResult = true;
      return found;
    }
    const unlock = await takeLock(key, lock.ttl);
    let content: unknown;
    try {
      content = await cacher.get(key);
    } catch (err) {
      await unlock();
      throw err;
    }
    if (content !== null && !isMissing(content)) {
      ctx.cachedResult = true;
      await unlock();
      return content;
    }
    let result: unknown;
    try {
      result = await next(ctx);
    } catch (err) {
      await unlock();
      throw err;
    }
    const done = result === undefined
      ? Promise.resolve()
      : Promise.resolve(cacher.set(key, result, ttl));
    done.then(unlock, (err) => {
      logger.warn(`Cannot store the cache entry '${key}'`, err);
      return unlock();
    }).catch((err) => logger.warn(`Cannot release the cache lock of '${key}'`, err));
    return result;
  };

  const hooks: MiddlewareHooks = {
    name: "Cacher",
    localAction(next: Handler, action: ActionInfo): Handler {
      const opts = actionCache(action);
      if (!opts) return next;
      const { keys, ttl, enabled, lock } = opts;
      const service = action.service;

      const miss = (ctx: Context, key: string): unknown => {
        // Without `lock`: concurrent misses of one key each run the handler and the last
        // result written wins, as in Moleculer.
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
        if (isMissing(value)) return miss(ctx, key);
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
        // Moleculer's rule (its issue 978): a cacher that cannot reach its store is skipped.
        if (cacher.connected === false) return next(ctx);
        const key = cacher.getCacheKey(
          action.name,
          ctx.params,
          ctx.meta,
          keys,
          ctx.headers,
        );
        if (lock !== undefined) return withLock(ctx, key, next, ttl, lock);
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
