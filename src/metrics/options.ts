/**
 * The broker option `metrics`, named and defaulted as Moleculer 0.15's, and its checks.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import { isRecord } from "../_util/values.ts";
import type { MetricReporter } from "./reporters/reporter.ts";

/** A reporter: its name (`"Console"`, `"Event"`, `"CSV"`, `"Prometheus"`), `{ type, options }` or an instance. */
export type ReporterOption =
  | string
  | { type: string; options?: Record<string, unknown> }
  | MetricReporter;

/** The broker option `metrics` (or `true`/`false`). */
export interface MetricsOptions {
  /** Turn metrics on. @default {false} */
  enabled?: boolean;
  /** Collect the `process.*`, `os.*` and node metrics every `collectInterval`. @default {true} */
  collectProcessMetrics?: boolean;
  /** Seconds between collections. @default {5} */
  collectInterval?: number;
  /** Where metrics go: one reporter or a list. @default {null} */
  reporter?: ReporterOption | ReporterOption[] | null | false;
  /** Histogram buckets of `buckets: true`, in ms. @default {[1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]} */
  defaultBuckets?: number[];
  /** Quantiles of `quantiles: true`. @default {[0.5, 0.9, 0.95, 0.99, 0.999]} */
  defaultQuantiles?: number[];
  /** Seconds a quantile window covers. @default {60} */
  defaultMaxAgeSeconds?: number;
  /** Slices of a quantile window. @default {10} */
  defaultAgeBuckets?: number;
  /** Aggregator of metrics that name none. @default {"sum"} */
  defaultAggregator?: string;
}

/** {@linkcode MetricsOptions} with every default applied. */
export interface ResolvedMetricsOptions {
  /** See {@linkcode MetricsOptions.enabled}. */
  readonly enabled: boolean;
  /** See {@linkcode MetricsOptions.collectProcessMetrics}. */
  readonly collectProcessMetrics: boolean;
  /** See {@linkcode MetricsOptions.collectInterval}. */
  readonly collectInterval: number;
  /** See {@linkcode MetricsOptions.reporter}; always a list. */
  readonly reporter: readonly ReporterOption[];
  /** See {@linkcode MetricsOptions.defaultBuckets}. */
  readonly defaultBuckets: readonly number[];
  /** See {@linkcode MetricsOptions.defaultQuantiles}. */
  readonly defaultQuantiles: readonly number[];
  /** See {@linkcode MetricsOptions.defaultMaxAgeSeconds}. */
  readonly defaultMaxAgeSeconds: number;
  /** See {@linkcode MetricsOptions.defaultAgeBuckets}. */
  readonly defaultAgeBuckets: number;
  /** See {@linkcode MetricsOptions.defaultAggregator}. */
  readonly defaultAggregator: string;
}

const KEYS = new Set([
  "enabled",
  "collectProcessMetrics",
  "collectInterval",
  "reporter",
  "defaultBuckets",
  "defaultQuantiles",
  "defaultMaxAgeSeconds",
  "defaultAgeBuckets",
  "defaultAggregator",
]);

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

function positive(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  return typeof value === "number" && Number.isFinite(value) && value > 0
    ? value
    : fail(option, "a number > 0", value);
}

function numbers(option: string, value: unknown, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
    fail(option, "an array of numbers", value);
  }
  return [...value];
}

/**
 * The broker option `metrics`, checked and completed with Moleculer's defaults.
 *
 * @param value `true`, `false`, the options object, or `undefined` (off).
 * @returns The complete options.
 * @throws {BrokerOptionsError} naming the key that is unknown or ill-typed.
 *
 * @example
 * ```ts
 * import { resolveMetricsOptions } from "./options.ts";
 *
 * const o = resolveMetricsOptions({ enabled: true, reporter: "Prometheus" });
 * console.log(o.collectInterval, o.reporter); // 5 [ "Prometheus" ]
 * ```
 */
export function resolveMetricsOptions(value: unknown): ResolvedMetricsOptions {
  const o: Record<string, unknown> = value === true
    ? { enabled: true }
    : value === false || value === undefined || value === null
    ? {}
    : isRecord(value)
    ? value
    : fail("metrics", "true, false or an object", value);
  for (const key of Object.keys(o)) {
    if (!KEYS.has(key)) {
      throw new BrokerOptionsError(
        `Unknown broker option 'metrics.${key}'. Known metrics options: ${[...KEYS].join(", ")}`,
        { option: `metrics.${key}` },
      );
    }
  }
  const r = o.reporter ?? null;
  const reporters = r === null || r === false ? [] : Array.isArray(r) ? r : [r];
  for (const [i, e] of reporters.entries()) {
    const ok = typeof e === "string" ||
      (isRecord(e) && (typeof e.type === "string" || typeof e.init === "function"));
    if (!ok) {
      fail(
        Array.isArray(r) ? `metrics.reporter[${i}]` : "metrics.reporter",
        'a reporter name ("Console", "Event", "CSV", "Prometheus", "OpenTelemetry"), ' +
          "{ type, options } or a " +
          "reporter instance",
      );
    }
  }
  const aggregator = o.defaultAggregator ?? "sum";
  if (typeof aggregator !== "string") fail("metrics.defaultAggregator", "a string", aggregator);
  return {
    enabled: bool("metrics.enabled", o.enabled, false),
    collectProcessMetrics: bool("metrics.collectProcessMetrics", o.collectProcessMetrics, true),
    collectInterval: positive("metrics.collectInterval", o.collectInterval, 5),
    reporter: reporters.filter(Boolean) as ReporterOption[],
    defaultBuckets: numbers(
      "metrics.defaultBuckets",
      o.defaultBuckets,
      [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    ),
    defaultQuantiles: numbers(
      "metrics.defaultQuantiles",
      o.defaultQuantiles,
      [0.5, 0.9, 0.95, 0.99, 0.999],
    ),
    defaultMaxAgeSeconds: positive("metrics.defaultMaxAgeSeconds", o.defaultMaxAgeSeconds, 60),
    defaultAgeBuckets: positive("metrics.defaultAgeBuckets", o.defaultAgeBuckets, 10),
    defaultAggregator: aggregator,
  };
}
