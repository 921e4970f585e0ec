/**
 * Built-in middleware: runs `before`, `after` and `error` hooks of services and
 * actions around local action handlers.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Handler } from "../core/middleware.ts";
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
