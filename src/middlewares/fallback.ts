/**
 * Fallbacks: an action with a `fallback` (a function or a method name)
 * answers with it instead of failing; a call with `opts.fallbackResponse`
 * resolves with that (or with what that function returns) instead of failing.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Handler, MiddlewareHooks } from "../core/middleware.ts";
import { ServiceSchemaError } from "../errors.ts";
import { isPromiseLike } from "../_util/async.ts";
import { isRetryAttempt } from "./retry.ts";

/** A fallback: a value, or a function of `(ctx, error)` returning one (or a promise of one). */
export type FallbackResponse =
  | unknown
  | ((ctx: Context, error: unknown) => unknown);

type FallbackFn = (this: unknown, ctx: Context, error: unknown) => unknown;

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The fallback middleware for action definitions. Only actions with a
 * `fallback` are wrapped; it runs with the service as `this`, for calls made
 * on this node and for requests from other nodes alike.
 *
 * @returns The middleware.
 * @throws {ServiceSchemaError} (when a service is registered) for a `fallback`
 *   that is neither a function nor the name of a method of the service.
 */
export function fallbackMiddleware(): MiddlewareHooks {
  return {
    name: "Fallback",
    localAction(next, action): Handler {
      const fb = action.schema.fallback;
      if (fb === undefined || fb === null) return next;
      const service = action.service;
      const fn = typeof fb === "string" && service
        ? (service as unknown as Record<string, unknown>)[fb]
        : fb;
      if (typeof fn !== "function") {
        throw new ServiceSchemaError(
          `The fallback of action '${action.name}' must be a function or the name of a method ` +
            `of its service, got ${JSON.stringify(fb)}`,
          { action: action.name },
        );
      }
      const recover = (ctx: Context, err: unknown) => {
        (service?.logger ?? ctx.broker.logger).warn(
          `Action '${action.name}' failed (${reason(err)}): answering with its fallback`,
        );
        return (fn as FallbackFn).call(service, ctx, err);
      };
      return (ctx) => {
        // A retried attempt fails to its retry loop, which runs inside this middleware.
        if (isRetryAttempt(ctx)) return next(ctx);
        let result: unknown;
        try {
          result = next(ctx);
        } catch (err) {
          return recover(ctx, err);
        }
        if (!isPromiseLike(result)) return result;
        return (result as Promise<unknown>).then(undefined, (err) => recover(ctx, err));
      };
    },
  };
}

/**
 * Apply a call's `fallbackResponse` to its outcome.
 *
 * @param result The outcome of the call.
 * @param ctx The call's context.
 * @param fallback The value, or a function of `(ctx, err)`.
 * @returns The result, or the fallback when the call failed.
 */
export function withFallbackResponse(
  result: Promise<unknown>,
  ctx: Context,
  fallback: FallbackResponse,
): Promise<unknown> {
  return result.catch((err) => {
    ctx.broker.logger.debug(
      `Call of '${ctx.action?.name}' failed (${reason(err)}): answering with fallbackResponse`,
    );
    return typeof fallback === "function"
      ? (fallback as (ctx: Context, err: unknown) => unknown)(ctx, err)
      : fallback;
  });
}
