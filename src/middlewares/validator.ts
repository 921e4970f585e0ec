/**
 * Built-in middleware: validates action params and event data against the
 * `params` schema of their definition, before any hook or handler runs.
 *
 * @module
 */

import type { Validator } from "../validators/validator.ts";
import type { Handler, MiddlewareHooks } from "../core/middleware.ts";
import type { Context } from "../core/context.ts";
import { isPromiseLike } from "../_util/async.ts";
import { ValidationError } from "../errors.ts";

type Kind = "action" | "event";

/** Tag each issue as Moleculer does: `{ ...issue, nodeID: ctx.nodeID, action | event: name }`. */
function tagIssues(
  err: unknown,
  ctx: Context,
  kind: Kind,
  name: string,
): never {
  if (err instanceof ValidationError && Array.isArray(err.data)) {
    for (const issue of err.data) {
      if (issue && typeof issue === "object") {
        (issue as Record<string, unknown>).nodeID = ctx.nodeID ??
          ctx.broker.nodeID;
        (issue as Record<string, unknown>)[kind] = name;
      }
    }
  }
  throw err;
}

function wrapWith(
  validator: Validator,
  next: Handler,
  kind: Kind,
  name: string,
  schema: unknown,
): Handler {
  if (!schema || typeof schema !== "object") return next;
  const check = validator.compile(schema as Record<string, unknown>);
  return (ctx) => {
    let checked: void | Promise<void>;
    try {
      checked = check(ctx.params, ctx);
    } catch (err) {
      tagIssues(err, ctx, kind, name);
    }
    if (isPromiseLike(checked)) {
      return (checked as Promise<void>).then(
        () => next(ctx),
        (err) => tagIssues(err, ctx, kind, name),
      );
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
    localAction: (next, action) => wrapWith(validator, next, "action", action.name, action.params),
    localEvent: (next, event) => wrapWith(validator, next, "event", event.name, event.params),
  };
}
