/**
 * The metric registry (`broker.metrics`), as Moleculer 0.15's `MetricRegistry`: register
 * metrics, update them by name, list their snapshots, time operations; reporters show them.
 *
 * @module
 */

import type { Logger } from "../logging.ts";
import { matchEventName } from "../core/event_match.ts";
import { MetricType } from "./constants.ts";
import type { ResolvedMetricsOptions } from "./options.ts";
import {
  type BaseMetric,
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  InfoMetric,
  type Labels,
  type MetricDefinition,
  type MetricHost,
  type MetricListOptions,
  type MetricObject,
} from "./types.ts";
import type { MetricReporter, ReporterHost, ReporterRegistry } from "./reporters/reporter.ts";
import { resolveReporter } from "./reporters/resolve.ts";
import { type CommonSource, registerCommonMetrics, updateCommonMetrics } from "./common.ts";

const NAME = /^[a-zA-Z_][a-zA-Z0-9-_:.]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9-_.]*$/;
/** Seconds between two ticks of the per-minute rates (Moleculer's). */
const RATE_TICK_SECONDS = 5;

/** What the registry needs from its broker. */
export interface MetricsHost extends ReporterHost, CommonSource {}

const asList = (v: string | string[] | null | undefined): string[] | null =>
  v === null || v === undefined ? null : Array.isArray(v) ? v : [v];

/** The metric registry of a broker. */
export class MetricRegistry implements MetricHost, ReporterRegistry {
  /** The resolved `metrics` options. */
  readonly opts: ResolvedMetricsOptions;
  /** The registry's logger (`METRICS`). */
  readonly logger: Logger;
  /** The broker side. */
  readonly host: MetricsHost;
  /** The metrics by name. */
  readonly store: Map<string, BaseMetric> = new Map();
  /** The reporters. */
  readonly reporters: readonly MetricReporter[];
  /** Reporters that follow changes. */
  readonly #listeners: MetricReporter[];
  /** The defaults metrics take. */
  readonly defaults: MetricHost["defaults"];
  #collectTimer: ReturnType<typeof setInterval> | undefined;
  #rateTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * Make the registry of a broker; reporters start with {@linkcode MetricRegistry.start}.
   *
   * @param opts The resolved `metrics` options.
   * @param host The broker side.
   * @throws {BrokerOptionsError} for an unknown reporter.
   */
  constructor(opts: ResolvedMetricsOptions, host: MetricsHost) {
    this.opts = opts;
    this.host = host;
    this.logger = host.getLogger("METRICS");
    this.defaults = {
      buckets: opts.defaultBuckets,
      quantiles: opts.defaultQuantiles,
      maxAgeSeconds: opts.defaultMaxAgeSeconds,
      ageBuckets: opts.defaultAgeBuckets,
      aggregator: opts.defaultAggregator,
    };
    this.reporters = opts.enabled ? opts.reporter.map((r, i) => resolveReporter(r, i)) : [];
    this.#listeners = this.reporters.filter((r) => typeof r.metricChanged === "function");
    if (opts.enabled && opts.collectProcessMetrics) registerCommonMetrics(this);
  }

  /** True when metrics are on. */
  get enabled(): boolean {
    return this.opts.enabled;
  }

  /**
   * True when metrics are on: Moleculer's name, which services and tools call.
   *
   * @returns Whether metrics are enabled.
   */
  isEnabled(): boolean {
    return this.opts.enabled;
  }

  /** Start the reporters, the collection and the rates (the broker starts). */
  async start(): Promise<void> {
    if (!this.opts.enabled) return;
    if (this.opts.collectProcessMetrics) {
      updateCommonMetrics(this);
      this.#collectTimer = setInterval(
        () => updateCommonMetrics(this),
        this.opts.collectInterval * 1000,
      );
    }
    this.#rateTimer = setInterval(() => this.#tickRates(), RATE_TICK_SECONDS * 1000);
    for (const r of this.reporters) await r.init(this);
    this.logger.info(
      "Metrics: Enabled" +
        (this.reporters.length
          ? `, reporter${this.reporters.length > 1 ? "s" : ""}: ${
            this.reporters.map((r) => r.constructor.name).join(", ")
          }`
          : ""),
    );
  }

  /** Stop the reporters and timers (the broker stops). */
  async stop(): Promise<void> {
    if (this.#collectTimer !== undefined) clearInterval(this.#collectTimer);
    if (this.#rateTimer !== undefined) clearInterval(this.#rateTimer);
    this.#collectTimer = this.#rateTimer = undefined;
    for (const r of this.reporters) {
      try {
        await r.stop?.();
      } catch (err) {
        this.logger.warn(`Metric reporter ${r.constructor.name} failed to stop`, err);
      }
    }
  }

  /** Refresh the process, os and node metrics now (the broker just started). */
  collect(): void {
    if (this.opts.enabled && this.opts.collectProcessMetrics) updateCommonMetrics(this);
  }

  #tickRates(): void {
    const now = Date.now();
    for (const m of this.store.values()) {
      let moved = false;
      for (const rate of m.rates()) if (rate.tick(now)) moved = true;
      if (moved) m.markDirty();
    }
  }

  /**
   * Register a metric. While metrics are off nothing is registered.
   *
   * @param def Its definition.
   * @returns The metric, or null while metrics are off.
   * @throws {Error} for a missing or invalid type, name or label name.
   */
  register(def: MetricDefinition): BaseMetric | null {
    if (def === null || typeof def !== "object") throw new Error("A metric must be an object");
    if (!def.type) throw new Error("The metric 'type' property is mandatory");
    if (!def.name) throw new Error("The metric 'name' property is mandatory");
    if (!NAME.test(def.name)) throw new Error(`The metric 'name' is not valid: ${def.name}`);
    for (const l of def.labelNames ?? []) {
      if (!LABEL.test(l)) throw new Error(`The '${def.name}' metric label name is not valid: ${l}`);
    }
    const Type = {
      [MetricType.COUNTER]: CounterMetric,
      [MetricType.GAUGE]: GaugeMetric,
      [MetricType.HISTOGRAM]: HistogramMetric,
      [MetricType.INFO]: InfoMetric,
    }[def.type];
    if (!Type) {
      throw new Error(
        `Unknown metric type '${def.type}'. Known types: counter, gauge, histogram, info`,
      );
    }
    if (!this.opts.enabled) return null;
    const metric = new Type(def, this);
    this.store.set(def.name, metric);
    return metric;
  }

  /**
   * Whether a metric of that name is registered.
   *
   * @param name The name.
   */
  hasMetric(name: string): boolean {
    return this.store.has(name);
  }

  /**
   * The metric of that name.
   *
   * @param name The name.
   * @returns It, or null.
   */
  getMetric(name: string): BaseMetric | null {
    return this.store.get(name) ?? null;
  }

  #of<T>(name: string, ok: (m: BaseMetric) => m is BaseMetric & T, what: string): T {
    const m = this.store.get(name);
    if (!m) throw new Error(`Unknown metric '${name}': register it first`);
    if (!ok(m)) throw new Error(`Invalid metric type: ${what} (metric '${name}' is a ${m.type})`);
    return m as T;
  }

  /**
   * Add to a counter or gauge.
   *
   * @param name The metric.
   * @param labels The labels.
   * @param value What to add. @default {1}
   * @param timestamp When.
   */
  increment(name: string, labels?: Labels | null, value = 1, timestamp?: number): void {
    if (!this.opts.enabled) return;
    this.#of<GaugeMetric>(
      name,
      (m): m is GaugeMetric => m instanceof GaugeMetric,
      "incrementing works with counters and gauges",
    ).increment(labels, value, timestamp);
  }

  /**
   * Subtract from a gauge.
   *
   * @param name The metric.
   * @param labels The labels.
   * @param value What to subtract. @default {1}
   * @param timestamp When.
   */
  decrement(name: string, labels?: Labels | null, value = 1, timestamp?: number): void {
    if (!this.opts.enabled) return;
    this.#of<GaugeMetric>(
      name,
      (m): m is GaugeMetric => m instanceof GaugeMetric && !(m instanceof CounterMetric),
      "decrementing works with gauges",
    ).decrement(labels, value, timestamp);
  }

  /**
   * Set a counter, gauge or info value.
   *
   * @param name The metric.
   * @param value The value.
   * @param labels The labels.
   * @param timestamp When.
   */
  set(name: string, value: unknown, labels?: Labels | null, timestamp?: number): void {
    if (!this.opts.enabled) return;
    const m = this.#of<GaugeMetric | InfoMetric>(
      name,
      (m): m is GaugeMetric | InfoMetric => m instanceof GaugeMetric || m instanceof InfoMetric,
      "setting works with counters, gauges and infos",
    );
    if (m instanceof InfoMetric) m.set(value, labels, timestamp);
    else m.set(value as number, labels, timestamp);
  }

  /**
   * Observe a value of a histogram.
   *
   * @param name The metric.
   * @param value The value.
   * @param labels The labels.
   * @param timestamp When.
   */
  observe(name: string, value: number, labels?: Labels | null, timestamp?: number): void {
    if (!this.opts.enabled) return;
    this.#of<HistogramMetric>(
      name,
      (m): m is HistogramMetric => m instanceof HistogramMetric,
      "observing works with histograms",
    ).observe(value, labels, timestamp);
  }

  /**
   * Reset one series of a metric.
   *
   * @param name The metric.
   * @param labels The labels.
   * @param timestamp When.
   */
  reset(name: string, labels?: Labels | null, timestamp?: number): void {
    if (this.opts.enabled) this.getMetric(name)?.reset(labels, timestamp);
  }

  /**
   * Reset every series of a metric.
   *
   * @param name The metric.
   * @param timestamp When.
   */
  resetAll(name: string, timestamp?: number): void {
    if (this.opts.enabled) this.getMetric(name)?.resetAll(timestamp);
  }

  /**
   * Time an operation: call the returned function when it ends; a histogram observes the
   * duration, a gauge is set to it.
   *
   * @param name The histogram or gauge, or omitted to only measure.
   * @param labels The labels.
   * @returns The function that ends the timing and returns the duration in ms.
   */
  timer(name?: string, labels?: Labels | null): () => number {
    const m = name && this.opts.enabled ? this.getMetric(name) : null;
    const start = performance.now();
    return () => {
      const ms = performance.now() - start;
      if (m instanceof HistogramMetric) m.observe(ms, labels);
      else if (m instanceof GaugeMetric) m.set(ms, labels);
      return ms;
    };
  }

  /**
   * The metrics and their snapshots.
   *
   * @param opts Filters by type and name pattern.
   * @returns The metrics.
   */
  list(opts: MetricListOptions = {}): MetricObject[] {
    const types = asList(opts.types);
    const includes = asList(opts.includes);
    const excludes = asList(opts.excludes);
    const out: MetricObject[] = [];
    for (const m of this.store.values()) {
      if (types && !types.includes(m.type)) continue;
      if (includes && !includes.some((p) => matchEventName(m.name, p))) continue;
      if (excludes && excludes.some((p) => matchEventName(m.name, p))) continue;
      out.push(m.toObject());
    }
    return out;
  }

  /**
   * A value changed: reporters that follow changes are told.
   *
   * @param metric The metric.
   * @param value The new value.
   * @param labels Its labels.
   * @param timestamp When.
   */
  changed(metric: BaseMetric, value: unknown, labels: Labels | null, timestamp: number): void {
    const l = this.#listeners;
    for (let i = 0; i < l.length; i++) l[i]!.metricChanged!(metric, value, labels, timestamp);
  }
}
