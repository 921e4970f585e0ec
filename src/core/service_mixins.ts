/**
 * Mixin merging for schema-style services, by Moleculer's rules.
 *
 * @module
 */

import type { ServiceSchema } from "./schema.ts";
import { toArray } from "../_util/values.ts";

type AnyRecord = Record<string, unknown>;

const LIFECYCLE = new Set(["created", "started", "stopped", "merged"]);

function isPlainObject(value: unknown): value is AnyRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype;
}

/** Deep merge where `primary` wins and `fallback` fills the gaps (lodash defaultsDeep). */
export function defaultsDeep(
  primary: AnyRecord,
  fallback: AnyRecord,
): AnyRecord {
  const out: AnyRecord = { ...fallback };
  for (const [key, value] of Object.entries(primary)) {
    const base = out[key];
    out[key] = isPlainObject(value) && isPlainObject(base) ? defaultsDeep(value, base) : value;
  }
  return out;
}

function asActionObject(value: unknown): AnyRecord | false {
  if (value === false) return false;
  if (typeof value === "function") return { handler: value };
  return isPlainObject(value) ? value : {};
}

function mergeActions(service: AnyRecord, mixin: AnyRecord): AnyRecord {
  const out: AnyRecord = { ...mixin };
  for (const [name, def] of Object.entries(service)) {
    const own = asActionObject(def);
    if (own === false) {
      delete out[name];
      continue;
    }
    const inherited = asActionObject(out[name]);
    out[name] = inherited === false ? own : { ...inherited, ...own };
  }
  return out;
}

function mergeEvents(service: AnyRecord, mixin: AnyRecord): AnyRecord {
  const out: AnyRecord = { ...mixin };
  for (const [name, def] of Object.entries(service)) {
    const own = typeof def === "function" ? { handler: def } : { ...(def as AnyRecord) };
    const prev = out[name];
    if (prev === undefined) {
      out[name] = own;
      continue;
    }
    const inherited = typeof prev === "function" ? { handler: prev } : (prev as AnyRecord);
    // Both handlers run: the mixin's first, then the service's.
    out[name] = {
      ...inherited,
      ...own,
      handler: [...toArray(inherited.handler), ...toArray(own.handler)],
    };
  }
  return out;
}

function mergeHooks(service: AnyRecord, mixin: AnyRecord): AnyRecord {
  const out: AnyRecord = {};
  for (
    const kind of new Set([...Object.keys(mixin), ...Object.keys(service)])
  ) {
    const mine = (service[kind] ?? {}) as AnyRecord;
    const theirs = (mixin[kind] ?? {}) as AnyRecord;
    const merged: AnyRecord = {};
    for (const key of new Set([...Object.keys(theirs), ...Object.keys(mine)])) {
      const a = toArray(theirs[key]);
      const b = toArray(mine[key]);
      // `before` hooks of the mixin run first; `after` and `error` hooks of the service run first.
      merged[key] = kind === "before" ? [...a, ...b] : [...b, ...a];
    }
    out[kind] = merged;
  }
  return out;
}

/**
 * Merge a service schema over a mixin schema: the service wins for scalars and
 * methods, settings and metadata are deep-merged, actions are merged per key
 * (`false` removes one), event handlers and lifecycle handlers all run (the
 * mixin's first), hooks are concatenated, dependencies are united.
 *
 * @param service The schema on top.
 * @param mixin The schema underneath.
 * @returns A new merged schema.
 */
export function mergeSchemas(
  service: ServiceSchema,
  mixin: ServiceSchema,
): ServiceSchema {
  const s = service as unknown as AnyRecord;
  const m = mixin as unknown as AnyRecord;
  const out: AnyRecord = { ...m };
  for (const [key, value] of Object.entries(s)) {
    if (value === undefined || key === "mixins") continue;
    const base = out[key];
    if (key === "settings" || key === "metadata") {
      out[key] = defaultsDeep(value as AnyRecord, (base ?? {}) as AnyRecord);
    } else if (key === "actions") {
      out[key] = mergeActions(value as AnyRecord, (base ?? {}) as AnyRecord);
    } else if (key === "events") {
      out[key] = mergeEvents(value as AnyRecord, (base ?? {}) as AnyRecord);
    } else if (key === "methods") {
      out[key] = { ...(base as AnyRecord ?? {}), ...(value as AnyRecord) };
    } else if (key === "hooks") {
      out[key] = mergeHooks(value as AnyRecord, (base ?? {}) as AnyRecord);
    } else if (LIFECYCLE.has(key)) {
      out[key] = [...toArray(base), ...toArray(value)];
    } else if (key === "dependencies") {
      const all = [...toArray(base), ...toArray(value)];
      out[key] = all.filter((d, i) =>
        all.findIndex((x) => JSON.stringify(x) === JSON.stringify(d)) === i
      );
    } else {
      out[key] = value;
    }
  }
  delete out.mixins;
  return out as unknown as ServiceSchema;
}

/**
 * Apply a schema's `mixins` (recursively), returning one flat schema. Earlier
 * mixins in the array win over later ones; the schema itself wins over all.
 *
 * @param schema A schema with optional `mixins`.
 * @returns The flattened schema.
 */
export function applyMixins(schema: ServiceSchema): ServiceSchema {
  const mixins = toArray(schema.mixins);
  if (mixins.length === 0) return schema;
  let merged: ServiceSchema | undefined;
  for (const raw of [...mixins].reverse()) {
    const mixin = applyMixins(raw);
    merged = merged ? mergeSchemas(mixin, merged) : mixin;
  }
  return merged ? mergeSchemas(schema, merged) : schema;
}
