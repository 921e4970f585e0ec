/**
 * Built-in middleware: fallbacks. A call with `opts.fallbackResponse`, or an
 * action with a `fallback` (a function or a method name), resolves with the
 * fallback instead of failing.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { CallHandler, Handler, MiddlewareHooks } from "../middleware.ts";

/** A fallback: a value, or a function of `(ctx, error)` returning one. */
export type FallbackResponse =
  | unknown
  | ((ctx: Context, error: unknown) => unknown);

function resolveFallback(
  service: object | null,
  fallback: unknown,
): Handler | null {
  if (typeof fallback === "function") return fallback as Handler;
  if (typeof fallback === "string" && service) {
    const fn = (service as Record<string, unknown>)[fallback];
    if (typeof fn === "function") return fn.bind(service) as Handler;
  }
  return null;
}

/**
 * The fallback middleware.
 *
 * @returns The middleware.
 */
export function fallbackMiddleware(): MiddlewareHooks {
  const wrapAction = (
    next: Handler,
    action: {
      schema: Readonly<Record<string, unknown>>;
      service: object | null;
    },
  ) => {
    const fallback = resolveFallback(action.service, action.schema.fallback);
    if (!fallback) return next;
    return async (ctx: Context) => {
      try {
        return await next(ctx);
      } catch (err) {
        return (fallback as (ctx: Context, err: unknown) => unknown)(ctx, err);
      }
    };
  };
  return {
    name: "Fallback",
    localAction: wrapAction,
    call(next: CallHandler): CallHandler {
      return (name, params, opts) => {
        if (!opts || !("fallbackResponse" in opts)) {
          return next(name, params, opts);
        }
        const fb = opts.fallbackResponse;
        return next(name, params, opts).catch((err) => {
          if (typeof fb !== "function") return fb;
          const ctx = opts.parentCtx ?? null;
          return (fb as (ctx: Context | null, err: unknown) => unknown)(
            ctx,
            err,
          );
        });
      };
    },
  };
}
