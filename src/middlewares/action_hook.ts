/**
 * Built-in middleware: runs `before`, `after` and `error` hooks of services and
 * actions around local action handlers.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { Handler } from "../middleware.ts";
import type { ActionSpec, Hook, ServiceHooks } from "../service.ts";
import type { Service } from "../service.ts";
import { matchEventName } from "../registry/event_match.ts";

// deno-lint-ignore no-explicit-any
type HookFn = (this: any, ctx: Context, value?: unknown) => unknown;

function hooksFor(table: Record<string, Hook[]> | undefined, rawName: string): HookFn[] {
  if (!table) return [];
  const out: HookFn[] = [];
  const all = table["*"];
  if (all) out.push(...all as HookFn[]);
  for (const [key, list] of Object.entries(table)) {
    if (key === "*") continue;
    if (key.split("|").some((k) => matchEventName(rawName, k.trim()))) {
      out.push(...list as HookFn[]);
    }
  }
  return out;
}

/**
 * Wrap an action handler with its hooks. Order: service `before` (`*` first,
 * then matching names), action `before`, handler, action `after`, service
 * `after` (matching names, then `*`). Error hooks run the same way as `after`;
 * each may return a value to recover or throw.
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
  const before = [
    ...hooksFor(hooks.before as Record<string, Hook[]>, spec.rawName),
    ...(spec.hooks.before as HookFn[] ?? []),
  ];
  const after = [
    ...(spec.hooks.after as HookFn[] ?? []),
    ...hooksFor(hooks.after as Record<string, Hook[]>, spec.rawName).reverse(),
  ];
  const errors = [
    ...(spec.hooks.error as HookFn[] ?? []),
    ...hooksFor(hooks.error as Record<string, Hook[]>, spec.rawName).reverse(),
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
