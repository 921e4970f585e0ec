/**
 * Built-in middleware: runs `before`, `after` and `error` hooks of services and
 * actions around local action handlers.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { ActionInfo, Handler, MiddlewareHooks } from "../core/middleware.ts";
import type { ActionSpec } from "../core/service.ts";
import type { Hook, ServiceHooks } from "../core/schema.ts";
import type { Service } from "../core/service.ts";
import { matchEventName } from "../core/event_match.ts";

// deno-lint-ignore no-explicit-any
type HookFn = (this: any, ctx: Context, value?: unknown) => unknown;

/** The service-level hooks of one action: those of `*`, and those of keys matching its name. */
function hooksFor(
  table: Record<string, Hook[]> | undefined,
  rawName: string,
): { all: HookFn[]; named: HookFn[] } {
  if (!table) return { all: [], named: [] };
  const named: HookFn[] = [];
  for (const [key, list] of Object.entries(table)) {
    if (key === "*") continue;
    if (key.split("|").some((k) => matchEventName(rawName, k.trim()))) {
      named.push(...list as HookFn[]);
    }
  }
  return { all: (table["*"] ?? []) as HookFn[], named };
}

/**
 * Wrap an action handler with its hooks, in Moleculer's order: service `before`
 * (`*`, then keys matching the name), action `before`, handler, action `after`,
 * service `after` (matching keys, then `*`). Each list runs in its written order.
 * Error hooks run like `after`; each may return a value to recover, or throw to
 * hand the (new) error to the next one.
 *
 * @param service The service.
 * @param hooks The service's hooks.
 * @param spec The action.
 * @param next The handler.
 * @returns The wrapped handler, or `next` when there are no hooks.
 */
export function wrapActionHooks(
  service: Service,
  hooks: ServiceHooks,
  spec: ActionSpec,
  next: Handler,
): Handler {
  const b = hooksFor(hooks.before as Record<string, Hook[]>, spec.rawName);
  const a = hooksFor(hooks.after as Record<string, Hook[]>, spec.rawName);
  const e = hooksFor(hooks.error as Record<string, Hook[]>, spec.rawName);
  const before = [
    ...b.all,
    ...b.named,
    ...(spec.hooks.before as HookFn[] ?? []),
  ];
  const after = [...(spec.hooks.after as HookFn[] ?? []), ...a.named, ...a.all];
  const errors = [
    ...(spec.hooks.error as HookFn[] ?? []),
    ...e.named,
    ...e.all,
  ];
  if (!before.length && !after.length && !errors.length) return next;
  return async (ctx) => {
    try {
      for (const h of before) await h.call(service, ctx);
      let res = await next(ctx);
      for (const h of after) res = await h.call(service, ctx, res);
      return res;
    } catch (err) {
      if (!errors.length) throw err;
      let failure: unknown = err;
      for (const h of errors) {
        try {
          return await h.call(service, ctx, failure);
        } catch (next) {
          failure = next;
        }
      }
      throw failure;
    }
  };
}

/**
 * Where a local action's info carries its service's hooks and its own normalised definition,
 * for {@linkcode actionHookMiddleware}; the broker sets it when it registers the action.
 */
export const ACTION_HOOKS: unique symbol = Symbol("denolecular.actionHooks");

/** The hooks an action info carries under {@linkcode ACTION_HOOKS}. */
export interface ActionHookSource {
  /** The service's hooks. */
  readonly hooks: ServiceHooks;
  /** The action. */
  readonly spec: ActionSpec;
}

/**
 * Moleculer's `ActionHook` middleware: the `before`, `after` and `error` hooks around a local
 * action (see {@linkcode wrapActionHooks}). It is the innermost internal middleware: the user's
 * middlewares run inside it, the validator outside.
 *
 * @returns The middleware.
 */
export function actionHookMiddleware(): MiddlewareHooks {
  return {
    name: "ActionHook",
    localAction(next: Handler, action: ActionInfo): Handler {
      const src = (action as { [ACTION_HOOKS]?: ActionHookSource })[ACTION_HOOKS];
      if (!src || !action.service) return next;
      return wrapActionHooks(action.service, src.hooks, src.spec, next);
    },
  };
}
