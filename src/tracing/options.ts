/**
 * The broker option `tracing`, named and defaulted as Moleculer 0.15's, and its checks.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import { isRecord } from "../_util/values.ts";
import type { TraceExporter } from "./exporters/exporter.ts";

/** How root spans are sampled. A span with a parent follows the parent's decision. */
export interface SamplingOptions {
  /** Fraction of traces kept: 1 = every one, 0 = none, 0.25 = one in four. @default {1} */
  rate?: number;
  /** Keep at most this many traces per second (wins over `rate`). @default {null} */
  tracesPerSecond?: number | null;
  /** Keep only spans with at least this priority. @default {null} */
  minPriority?: number | null;
}

/**
 * Tags of action or event spans: `params`/`meta` as `true` (all of them) or a list of keys,
 * `response` likewise for actions, or a function `(ctx, response?) => tags`.
 */
export type SpanTagsOption =
  | {
    params?: boolean | string[];
    meta?: boolean | string[];
    response?: boolean | string[];
  }
  // deno-lint-ignore no-explicit-any
  | ((ctx: any, response?: unknown) => Record<string, unknown> | null | undefined);

/** An exporter: its name (`"Console"`, `"Event"`, `"Zipkin"`, `"OpenTelemetry"`), `{ type, options }` or an instance. */
export type ExporterOption =
  | string
  | { type: string; options?: Record<string, unknown> }
  | TraceExporter;

/** The broker option `tracing` (or `true`/`false`). */
export interface TracingOptions {
  /** Turn tracing on. @default {false} */
  enabled?: boolean;
  /** Which root spans are kept. */
  sampling?: SamplingOptions;
  /** Make spans of actions. @default {true} */
  actions?: boolean;
  /** Make spans of events. @default {false} */
  events?: boolean;
  /** Error fields kept in spans. @default {["name", "message", "code", "type", "data"]} */
  errorFields?: string[];
  /** Keep the error stack too (adds `stack` to `errorFields`). @default {false} */
  stackTrace?: boolean;
  /** Tags of every span, or a function of the tracer returning them. @default {null} */
  defaultTags?: Record<string, unknown> | ((tracer: unknown) => Record<string, unknown>) | null;
  /** Tags of action and event spans, broker-wide; an action's own `tracing.tags` win. */
  tags?: { action?: SpanTagsOption | null; event?: SpanTagsOption | null };
  /** Where spans go: one exporter or a list. @default {null} */
  exporter?: ExporterOption | ExporterOption[] | null;
}

/** {@linkcode TracingOptions} with every default applied. */
export interface ResolvedTracingOptions {
  /** See {@linkcode TracingOptions.enabled}. */
  readonly enabled: boolean;
  /** See {@linkcode TracingOptions.sampling}. */
  readonly sampling: {
    readonly rate: number;
    readonly tracesPerSecond: number | null;
    readonly minPriority: number | null;
  };
  /** See {@linkcode TracingOptions.actions}. */
  readonly actions: boolean;
  /** See {@linkcode TracingOptions.events}. */
  readonly events: boolean;
  /** See {@linkcode TracingOptions.errorFields}; holds `stack` when `stackTrace` is on. */
  readonly errorFields: readonly string[];
  /** See {@linkcode TracingOptions.stackTrace}. */
  readonly stackTrace: boolean;
  /** See {@linkcode TracingOptions.defaultTags}. */
  readonly defaultTags: TracingOptions["defaultTags"];
  /** See {@linkcode TracingOptions.tags}. */
  readonly tags: {
    readonly action: SpanTagsOption | null;
    readonly event: SpanTagsOption | null;
  };
  /** See {@linkcode TracingOptions.exporter}; always a list. */
  readonly exporter: readonly ExporterOption[];
}

const KEYS = new Set([
  "enabled",
  "sampling",
  "actions",
  "events",
  "errorFields",
  "stackTrace",
  "defaultTags",
  "tags",
  "exporter",
]);
const SAMPLING_KEYS = new Set(["rate", "tracesPerSecond", "minPriority"]);

function fail(option: string, must: string, value?: unknown): never {
  throw new BrokerOptionsError(
    `Option '${option}' must be ${must}${
      value === undefined ? "" : `, got ${JSON.stringify(value) ?? String(value)}`
    }`,
    { option, value },
  );
}

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return typeof value === "boolean" ? value : fail(option, "true or false", value);
}

function nullableNumber(option: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  return typeof value === "number" && Number.isFinite(value) && value >= 0
    ? value
    : fail(option, "a number ≥ 0 or null", value);
}

function keys(option: string, value: Record<string, unknown>, known: Set<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new BrokerOptionsError(
        `Unknown broker option '${option}.${key}'. Known ${option} options: ${
          [...known].join(", ")
        }`,
        { option: `${option}.${key}` },
      );
    }
  }
}

function tagsOption(option: string, value: unknown): SpanTagsOption | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "function") return value as SpanTagsOption;
  if (!isRecord(value)) fail(option, "an object { params, meta, response } or a function");
  return value as SpanTagsOption;
}

/**
 * The broker option `tracing`, checked and completed with Moleculer's defaults.
 *
 * @param value `true`, `false`, the options object, or `undefined` (off).
 * @returns The complete options.
 * @throws {BrokerOptionsError} naming the key that is unknown or ill-typed.
 *
 * @example
 * ```ts
 * import { resolveTracingOptions } from "./options.ts";
 *
 * const o = resolveTracingOptions({ enabled: true, sampling: { rate: 0.5 } });
 * console.log(o.actions, o.events, o.sampling.rate); // true false 0.5
 * ```
 */
export function resolveTracingOptions(value: unknown): ResolvedTracingOptions {
  const o: Record<string, unknown> = value === true
    ? { enabled: true }
    : value === false || value === undefined || value === null
    ? {}
    : isRecord(value)
    ? value
    : fail("tracing", "true, false or an object", value);
  keys("tracing", o, KEYS);
  const s = o.sampling === undefined
    ? {}
    : isRecord(o.sampling)
    ? o.sampling
    : fail("tracing.sampling", "an object { rate, tracesPerSecond, minPriority }");
  keys("tracing.sampling", s, SAMPLING_KEYS);
  const rate = s.rate === undefined ? 1 : s.rate;
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    fail("tracing.sampling.rate", "a number from 0 to 1", rate);
  }
  const stackTrace = bool("tracing.stackTrace", o.stackTrace, false);
  let errorFields = ["name", "message", "code", "type", "data"];
  if (o.errorFields !== undefined) {
    if (!Array.isArray(o.errorFields) || o.errorFields.some((f) => typeof f !== "string")) {
      fail("tracing.errorFields", "an array of field names");
    }
    errorFields = [...o.errorFields];
  }
  if (stackTrace && !errorFields.includes("stack")) errorFields.push("stack");
  const defaultTags = o.defaultTags ?? null;
  if (defaultTags !== null && typeof defaultTags !== "function" && !isRecord(defaultTags)) {
    fail("tracing.defaultTags", "an object or a function returning one");
  }
  const tags = o.tags === undefined
    ? {}
    : isRecord(o.tags)
    ? o.tags
    : fail("tracing.tags", "an object { action, event }");
  keys("tracing.tags", tags, new Set(["action", "event"]));
  const exporter = o.exporter ?? null;
  const exporters = exporter === null ? [] : Array.isArray(exporter) ? exporter : [exporter];
  for (const [i, e] of exporters.entries()) {
    const ok = typeof e === "string" || (isRecord(e) && (
      typeof e.type === "string" || typeof e.spanFinished === "function" ||
      typeof e.spanStarted === "function"
    ));
    if (!ok) {
      fail(
        Array.isArray(exporter) ? `tracing.exporter[${i}]` : "tracing.exporter",
        'an exporter name ("Console", "Event", "Zipkin", "OpenTelemetry"), ' +
          "{ type, options } or an exporter instance",
      );
    }
  }
  return {
    enabled: bool("tracing.enabled", o.enabled, false),
    sampling: {
      rate,
      tracesPerSecond: nullableNumber("tracing.sampling.tracesPerSecond", s.tracesPerSecond),
      minPriority: nullableNumber("tracing.sampling.minPriority", s.minPriority),
    },
    actions: bool("tracing.actions", o.actions, true),
    events: bool("tracing.events", o.events, false),
    errorFields,
    stackTrace,
    defaultTags: defaultTags as TracingOptions["defaultTags"],
    tags: {
      action: tagsOption("tracing.tags.action", tags.action),
      event: tagsOption("tracing.tags.event", tags.event),
    },
    exporter: exporters.filter(Boolean) as ExporterOption[],
  };
}
