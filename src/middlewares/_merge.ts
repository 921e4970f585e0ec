/**
 * Merging an action's (or event's) own options over the broker-wide ones.
 *
 * @module
 */

/**
 * Options of one action: the broker-wide `base`, with the fields of `own` that
 * have the right type laid over it. `own` may be `true`/`false` as a shorthand
 * for `{ enabled }`. Anything else in `own` is ignored: a remote node's
 * definition must never break this one, and Moleculer ignores it too.
 *
 * @param base The broker-wide options, complete.
 * @param own The definition's value, e.g. `action.schema.circuitBreaker`.
 * @returns `base` itself when `own` changes nothing, else a merged copy.
 */
export function mergeOwn<T extends object>(base: T, own: unknown): T {
  if (own === undefined || own === null) return base;
  if (typeof own === "boolean") {
    return "enabled" in base && (base as { enabled: unknown }).enabled !== own
      ? { ...base, enabled: own }
      : base;
  }
  if (typeof own !== "object") return base;
  let out: T | undefined;
  for (const [key, value] of Object.entries(own)) {
    // Own keys only: `__proto__` (an own key after JSON.parse) would replace the prototype.
    if (!Object.hasOwn(base, key)) continue;
    const current = (base as Record<string, unknown>)[key];
    const fits = typeof value === typeof current ||
      (typeof value === "number" && current === null);
    if (!fits || value === current) continue;
    out ??= { ...base };
    (out as Record<string, unknown>)[key] = value;
  }
  return out ?? base;
}
