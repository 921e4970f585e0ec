/**
 * Built-in middleware: validates action params and event data against the
 * `params` schema of their definition, before any hook or handler runs.
 *
 * @module
 */

import type { Validator } from "../validation/validator.ts";
import type { Handler, MiddlewareHooks } from "../middleware.ts";
import type { Context } from "../context.ts";
import { isPromiseLike } from "../_util/async.ts";
import { ValidationError } from "../errors.ts";

function tagIssues(err: unknown, ctx: Context, name: string): never {
  if (err instanceof ValidationError && Array.isArray(err.data)) {
    for (const issue of err.data) {
      if (issue && typeof issue === "object") {
        (issue as Record<string, unknown>).nodeID = ctx.broker.nodeID;
        (issue as Record<string, unknown>).action = name;
      }
    }
  }
  throw err;
}

function wrapWith(validator: Validator, next: Handler, name: string, schema: unknown): Handler {
  if (!schema || typeof schema !== "object") return next;
  const check = validator.compile(schema as Record<string, unknown>);
  return (ctx) => {
    let checked: void | Promise<void>;
    try {
      checked = check(ctx.params, ctx);
    } catch (err) {
      tagIssues(err, ctx, name);
    }
    if (isPromiseLike(checked)) {
      return (checked as Promise<void>).then(() => next(ctx), (err) => tagIssues(err, ctx, name));
    }
    return next(ctx);
  };
}

/**
 * The validator middleware: one compiled check per action or event, made at registration.
 *
 * @param validator The validator that compiles schemas.
 * @returns The middleware.
 */
export function validatorMiddleware(validator: Validator): MiddlewareHooks {
  return {
    name: "Validator",
    localAction: (next, action) => wrapWith(validator, next, action.name, action.params),
    localEvent: (next, event) => wrapWith(validator, next, event.name, event.params),
  };
}
