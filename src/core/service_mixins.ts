/**
 * Mixin merging for schema-style services, by Moleculer 0.15's rules (`Service.mergeSchemas`):
 * a mixin from npm written for Moleculer merges here into the same schema it gives there.
 *
 * Each schema key has its strategy. A service (or subclass) may replace any of them, or add one
 * for a custom key, with a method named `mergeSchema<Key>` (`mergeSchemaSettings`,
 * `mergeSchemaMyKey`...), as in Moleculer; the {@linkcode SchemaMergers} argument is where those
 * methods are looked up.
 *
 * @module
 */

import type { MixinSchema, ServiceSchema } from "./schema.ts";
import { toArray } from "../_util/values.ts";

type AnyRecord = Record<string, unknown>;

/** A strategy merging one schema key: `(value of the service, value of the mixin) => merged`. */
export type MergeStrategy = (src: unknown, target: unknown) => unknown;

/**
 * Where custom strategies are looked up: any object whose `mergeSchema<Key>` members are
 * functions (a `Service` subclass instance in practice).
 */
export type SchemaMergers = Readonly<Record<string, unknown>>;

function isPlainObject(value: unknown): value is AnyRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A deep copy of plain objects and arrays (functions and class instances are shared), like lodash's cloneDeep for schemas. */
function cloneDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneDeep) as T;
  if (!isPlainObject(value)) return value;
  const out: AnyRecord = {};
  for (const [key, v] of Object.entries(value)) out[key] = cloneDeep(v);
  return out as T;
}

function mergeDefaults(primary: unknown, fallback: unknown): unknown {
  if (primary === undefined) return cloneDeep(fallback);
  if (Array.isArray(primary) && Array.isArray(fallback)) {
    const length = Math.max(primary.length, fallback.length);
    return Array.from({ length }, (_, i) => mergeDefaults(primary[i], fallback[i]));
  }
  if (isPlainObject(primary) && isPlainObject(fallback)) {
    return defaultsDeep(primary, fallback);
  }
  return cloneDeep(primary);
}

/**
 * Deep merge where `primary` wins and `fallback` fills the gaps, as lodash's `defaultsDeep`:
 * nested plain objects merge, arrays merge index by index, `null` in `primary` is kept.
 * Neither input is changed.
 *
 * @param primary The values that win.
 * @param fallback The values that fill what `primary` leaves undefined.
 * @returns A new object.
 */
export function defaultsDeep(primary: AnyRecord, fallback: AnyRecord | undefined): AnyRecord {
  const out: AnyRecord = {};
  for (const [key, value] of Object.entries(primary)) {
    out[key] = mergeDefaults(value, fallback?.[key]);
  }
  for (const [key, value] of Object.entries(fallback ?? {})) {
    if (!(key in out)) out[key] = cloneDeep(value);
  }
  return out;
}

function wrapToHandler(value: unknown): AnyRecord | undefined {
  if (typeof value === "function") return { handler: value };
  if (Array.isArray(value)) return { handler: value };
  return isPlainObject(value) ? value : undefined;
}

/** Structural equality of schema values; functions and class instances by identity (lodash's `isEqual`). */
function isEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => isEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && isEqual(a[k], b[k]));
  }
  return false;
}

/** Drop repeated entries, keeping the first (lodash's `uniqWith(list, isEqual)`). */
function uniqueBy<T>(list: T[]): T[] {
  return list.filter((item, i) => list.findIndex((other) => isEqual(other, item)) === i);
}

function compactFlat(...parts: unknown[]): unknown[] {
  return parts.flatMap((p) => toArray(p as unknown[] | unknown)).filter((v) =>
    v !== undefined && v !== null && v !== false
  );
}

/** Hooks concatenate: the mixin's `before` hooks run first, the service's `after`/`error` first. */
function concatHooks(kind: string, service: unknown, mixin: unknown): unknown[] {
  return kind === "before" ? compactFlat(mixin, service) : compactFlat(service, mixin);
}

/** Moleculer's built-in strategy per key. */
const STRATEGIES: Readonly<Record<string, readonly [method: string, MergeStrategy]>> = {
  name: ["", (src, target) => src ?? target],
  version: ["", (src, target) => src ?? target],
  settings: ["mergeSchemaSettings", mergeSettings],
  metadata: ["mergeSchemaMetadata", (src, target) => defaultsDeep(rec(src), rec(target))],
  hooks: ["mergeSchemaHooks", mergeHooks],
  actions: ["mergeSchemaActions", mergeActions],
  methods: ["mergeSchemaMethods", (src, target) => ({ ...rec(target), ...rec(src) })],
  events: ["mergeSchemaEvents", mergeEvents],
  merged: ["mergeSchemaLifecycleHandlers", mergeLifecycle],
  created: ["mergeSchemaLifecycleHandlers", mergeLifecycle],
  started: ["mergeSchemaLifecycleHandlers", mergeLifecycle],
  stopped: ["mergeSchemaLifecycleHandlers", mergeLifecycle],
  mixins: ["mergeSchemaUniqArray", mergeUniqArray],
  dependencies: ["mergeSchemaDependencies", mergeUniqArray],
};

function rec(value: unknown): AnyRecord {
  return isPlainObject(value) ? value : {};
}

/** Settings merge deeply; `$secureSettings` of both sides are united, so no secret leaks. */
function mergeSettings(src: unknown, target: unknown): AnyRecord {
  const s = rec(src);
  const t = { ...rec(target) };
  if (Array.isArray(s.$secureSettings) || Array.isArray(t.$secureSettings)) {
    t.$secureSettings = [
      ...new Set([...toArray(s.$secureSettings), ...toArray(t.$secureSettings)]),
    ];
    return { ...defaultsDeep(s, t), $secureSettings: t.$secureSettings };
  }
  return defaultsDeep(s, t);
}

function mergeHooks(src: unknown, target: unknown): AnyRecord {
  const out = cloneDeep(rec(target));
  for (const [kind, table] of Object.entries(rec(src))) {
    const merged = rec(out[kind]);
    for (const [key, hooks] of Object.entries(rec(table))) {
      merged[key] = concatHooks(kind, hooks, merged[key]);
    }
    out[kind] = merged;
  }
  return out;
}

/**
 * Actions merge deeply (a mixin's `params`, `cache` or `hooks` survive an override of its
 * handler); `false` removes the mixin's action; action-level hooks concatenate.
 */
function mergeActions(src: unknown, target: unknown): AnyRecord {
  const out = { ...rec(target) };
  for (const [name, def] of Object.entries(rec(src))) {
    if (def === false) {
      delete out[name];
      continue;
    }
    const own = wrapToHandler(def);
    const inherited = wrapToHandler(out[name]);
    if (own === undefined) {
      out[name] = def;
      continue;
    }
    if (inherited === undefined) {
      out[name] = cloneDeep(own);
      continue;
    }
    const merged = defaultsDeep(own, inherited);
    if (isPlainObject(own.hooks) && isPlainObject(inherited.hooks)) {
      const hooks = { ...rec(merged.hooks) };
      for (const [kind, list] of Object.entries(own.hooks)) {
        hooks[kind] = concatHooks(kind, list, inherited.hooks[kind]);
      }
      merged.hooks = hooks;
    }
    out[name] = merged;
  }
  return out;
}

/** Both event handlers are kept (the mixin's first); Moleculer runs them in parallel. */
function mergeEvents(src: unknown, target: unknown): AnyRecord {
  const out = { ...rec(target) };
  for (const [name, def] of Object.entries(rec(src))) {
    const own = wrapToHandler(def);
    const inherited = wrapToHandler(out[name]);
    const handlers = compactFlat(inherited?.handler, own?.handler);
    const merged = defaultsDeep(own ?? {}, inherited);
    merged.handler = handlers.length === 1 ? handlers[0] : handlers;
    out[name] = merged;
  }
  return out;
}

function mergeLifecycle(src: unknown, target: unknown): unknown[] {
  return compactFlat(target, src);
}

function mergeUniqArray(src: unknown, target: unknown): unknown[] {
  return uniqueBy(compactFlat(src, target));
}

function strategyFor(key: string, mergers: SchemaMergers | undefined): MergeStrategy {
  const builtin = STRATEGIES[key];
  const method = builtin ? builtin[0] : `mergeSchema${key.charAt(0).toUpperCase()}${key.slice(1)}`;
  const custom = method ? mergers?.[method] : undefined;
  if (typeof custom === "function") {
    return (src, target) => (custom as MergeStrategy).call(mergers, src, target);
  }
  // Unknown keys: the service's value wins when it has one.
  return builtin?.[1] ?? ((src, target) => src !== undefined ? src : target);
}

/**
 * Merge a service schema over a mixin schema, key by key, as Moleculer's
 * `Service.mergeSchemas(mixinSchema, svcSchema)`: `name`/`version` are overwritten, settings and
 * metadata deep-merged (`$secureSettings` united), actions deep-merged (`false` removes one),
 * methods overwritten, event handlers and lifecycle handlers (`merged`, `created`, `started`,
 * `stopped`) all kept with the mixin's first, hooks concatenated, `mixins` and `dependencies`
 * united; any other key goes to a `mergeSchema<Key>` method of `mergers`, else the service's
 * value wins. Neither schema is changed.
 *
 * @param mixin The schema underneath.
 * @param service The schema on top.
 * @param mergers Where `mergeSchema<Key>` strategies are looked up (a service instance).
 * @returns A new merged schema.
 */
export function mergeSchemas(
  mixin: MixinSchema,
  service: MixinSchema,
  mergers?: SchemaMergers,
): ServiceSchema {
  const out = cloneDeep(mixin as unknown as AnyRecord);
  for (const [key, value] of Object.entries(service as unknown as AnyRecord)) {
    if (value === undefined && (key === "name" || key === "version")) continue;
    out[key] = strategyFor(key, mergers)(cloneDeep(value), out[key]);
  }
  return out as unknown as ServiceSchema;
}

/**
 * Apply a schema's `mixins` (recursively), returning one flat schema. Earlier mixins in the
 * array win over later ones; the schema itself wins over all. The result keeps the united
 * `mixins` list, as Moleculer's does.
 *
 * @param schema A schema with optional `mixins`.
 * @param mergers Where `mergeSchema<Key>` strategies are looked up (a service instance).
 * @returns The flattened schema.
 */
export function applyMixins(schema: ServiceSchema, mergers?: SchemaMergers): ServiceSchema {
  const mixins = toArray(schema.mixins);
  if (mixins.length === 0) return schema;
  let merged: MixinSchema | undefined;
  for (const raw of [...mixins].reverse()) {
    const mixin = raw.mixins ? applyMixins(raw as ServiceSchema, mergers) : raw;
    merged = merged ? mergeSchemas(merged, mixin, mergers) : mixin;
  }
  return merged ? mergeSchemas(merged, schema, mergers) : schema;
}
