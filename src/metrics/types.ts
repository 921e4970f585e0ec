/**
 * The metric types of Moleculer 0.15: counter, gauge, histogram (buckets and quantiles over a
 * sliding time window) and info, with the same snapshots (`metric.snapshot()`, `toObject()`)
 * that reporters and `$node.metrics` show.
 *
 * Each value series is an object a hot path may keep: `series(labels)` returns it once, and
 * `add`/`record` update it without hashing the labels again.
 *
 * @module
 */

import { MetricType } from "./constants.ts";

/** Label values of one series. */
export type Labels = Record<string, unknown>;

/** What a metric needs from its registry: defaults, and where changes are told. */
export interface MetricHost {
  /** The registry's defaults. */
  readonly defaults: {
    readonly buckets: readonly number[];
    readonly quantiles: readonly number[];
    readonly maxAgeSeconds: number;
    readonly ageBuckets: number;
    readonly aggregator: string;
  };
  /** A value changed (reporters that follow changes are told). */
  changed(metric: BaseMetric, value: unknown, labels: Labels | null, timestamp: number): void;
}

/** The definition of a metric (`broker.metrics.register(def)`). */
export interface MetricDefinition {
  /** `"counter"`, `"gauge"`, `"histogram"` or `"info"`. */
  type: MetricType;
  /** Its name: letters, digits, `_`, `-`, `:` and `.`, not starting with a digit. */
  name: string;
  /** What it measures. */
  description?: string;
  /** The names of its labels. */
  labelNames?: string[];
  /** Its unit, e.g. `"request"`. */
  unit?: string;
  /** How values of nodes are aggregated (kept for Moleculer's tools). */
  aggregator?: string;
  /** Keep a per-minute rate of each series (counters, gauges, histogram counts). */
  rate?: boolean;
  /** Histogram buckets: bounds, or `true` for the registry's. */
  buckets?: number[] | boolean;
  /** Histogram buckets from `start`, `width` apart. */
  linearBuckets?: { start: number; width: number; count: number };
  /** Histogram buckets from `start`, `factor` apart. */
  exponentialBuckets?: { start: number; factor: number; count: number };
  /** Histogram quantiles, or `true` for the registry's. */
  quantiles?: number[] | boolean;
  /** Seconds of observations the quantiles cover. */
  maxAgeSeconds?: number;
  /** Slices of that window. */
  ageBuckets?: number;
}

/** The snapshot of a counter, gauge or info series. */
export interface ValueSnapshot {
  /** The labels hash. */
  readonly key: string;
  /** The value. */
  readonly value: unknown;
  /** The labels. */
  readonly labels: Labels;
  /** When it last changed, ms since the epoch. */
  readonly timestamp: number;
  /** Per-minute rate, when the metric keeps one. */
  readonly rate?: number;
}

/** The snapshot of a histogram series. */
export interface HistogramSnapshot {
  /** The labels hash. */
  readonly key: string;
  /** The labels. */
  readonly labels: Labels;
  /** Observations. */
  readonly count: number;
  /** Their sum. */
  readonly sum: number;
  /** The last one. */
  readonly lastValue: number | null;
  /** When it was made, ms since the epoch. */
  readonly timestamp: number;
  /** Observations at or below each bound (cumulative, as Prometheus counts). */
  readonly buckets?: Record<string, number>;
  /** Least observation in the window. */
  readonly min?: number | null;
  /** Mean in the window. */
  readonly mean?: number | null;
  /** Variance in the window. */
  readonly variance?: number | null;
  /** Standard deviation in the window. */
  readonly stdDev?: number | null;
  /** Greatest observation in the window. */
  readonly max?: number | null;
  /** The quantiles in the window. */
  readonly quantiles?: Record<string, number | undefined>;
  /** Per-minute rate of observations, when the metric keeps one. */
  readonly rate?: number;
}

/** Filters of `list()` and `$node.metrics`. */
export interface MetricListOptions {
  /** Only these types. */
  types?: string | string[] | null;
  /** Only names matching one of these patterns (`moleculer.request.*`). */
  includes?: string | string[] | null;
  /** Not names matching one of these patterns. */
  excludes?: string | string[] | null;
}

/** A metric as `list()` shows it. */
export interface MetricObject {
  /** Its type. */
  readonly type: MetricType;
  /** Its name. */
  readonly name: string;
  /** Its description. */
  readonly description: string | undefined;
  /** Its label names. */
  readonly labelNames: readonly string[];
  /** Its unit. */
  readonly unit: string | undefined;
  /** Its series. */
  readonly values: ReadonlyArray<ValueSnapshot | HistogramSnapshot>;
}

/** A per-minute rate, ticked every 5 s by the registry (Moleculer's weighted average). */
export class MetricRate {
  /** The rate, per minute. */
  rate = 0;
  #value = 0;
  #last = 0;
  #lastTick = Date.now();

  /**
   * Take the series' current value.
   *
   * @param value The value.
   */
  update(value: number): void {
    this.#value = value;
  }

  /**
   * Recompute the rate.
   *
   * @param now Now, in ms since the epoch.
   * @returns Whether the rate changed noticeably.
   */
  tick(now: number): boolean {
    const elapsed = (now - this.#lastTick) / 1000;
    this.#lastTick = now;
    if (elapsed <= 0) return false;
    const perMinute = (this.#value - this.#last) / elapsed * 60;
    this.#last = this.#value;
    let rate = this.rate + (perMinute - this.rate) * 0.5;
    if (Math.abs(rate) < 0.05) rate = 0;
    const changed = Math.abs(rate - this.rate) > 0.01;
    this.rate = rate;
    return changed;
  }
}

function pick(labels: Labels | null | undefined, names: readonly string[]): Labels {
  const out: Labels = {};
  if (labels) { for (const n of names) if (n in labels) out[n] = labels[n]; }
  return out;
}

/** What every metric has. */
export abstract class BaseMetric {
  /** Its type. */
  abstract readonly type: MetricType;
  /** Its name. */
  readonly name: string;
  /** Its description. */
  readonly description: string | undefined;
  /** Its label names. */
  readonly labelNames: readonly string[];
  /** Its unit. */
  readonly unit: string | undefined;
  /** Its aggregator. */
  readonly aggregator: string;
  /** Whether it keeps rates. */
  readonly keepsRate: boolean;
  /** The registry. */
  protected readonly host: MetricHost;
  #dirty = true;
  #snapshot: ReadonlyArray<ValueSnapshot | HistogramSnapshot> | null = null;

  /**
   * Make a metric of a registry.
   *
   * @param def Its definition.
   * @param host Its registry.
   */
  constructor(def: MetricDefinition, host: MetricHost) {
    this.host = host;
    this.name = def.name;
    this.description = def.description;
    this.labelNames = def.labelNames ? [...def.labelNames] : [];
    this.unit = def.unit;
    this.aggregator = def.aggregator ?? host.defaults.aggregator;
    this.keepsRate = def.rate === true;
  }

  /**
   * The key of a label set: Moleculer's hash (numbers bare, strings quoted, `|` between).
   *
   * @param labels The labels.
   * @returns The key.
   */
  hashingLabels(labels: Labels | null | undefined): string {
    const names = this.labelNames;
    if (names.length === 0 || labels === null || typeof labels !== "object") return "";
    let key = "";
    for (let i = 0; i < names.length; i++) {
      const v = labels[names[i]!];
      if (i > 0) key += "|";
      if (typeof v === "number") key += v;
      else if (typeof v === "string") key += '"' + v + '"';
      else if (typeof v === "boolean") key += v;
    }
    return key;
  }

  /** Mark the snapshot stale and tell the registry. */
  protected changed(value: unknown, labels: Labels | null, timestamp: number): void {
    this.#dirty = true;
    this.host.changed(this, value, labels, timestamp);
  }

  /** The labels of a new series: only the metric's label names. */
  protected labelsOf(labels: Labels | null | undefined): Labels {
    return pick(labels, this.labelNames);
  }

  /**
   * The labels a series of `labels` keeps (only the metric's label names).
   *
   * @param labels Labels as given to an update.
   * @returns The kept labels.
   */
  labelsOfSeries(labels: Labels | null | undefined): Labels {
    return pick(labels, this.labelNames);
  }

  /** The series' snapshots, cached until a value changes. */
  snapshot(): ReadonlyArray<ValueSnapshot | HistogramSnapshot> {
    if (!this.#dirty && this.#snapshot) return this.#snapshot;
    this.#snapshot = this.generateSnapshot();
    this.#dirty = false;
    return this.#snapshot;
  }

  /** Mark the snapshot stale (a rate moved). */
  markDirty(): void {
    this.#dirty = true;
  }

  /** The metric as `list()` shows it. */
  toObject(): MetricObject {
    return {
      type: this.type,
      name: this.name,
      description: this.description,
      labelNames: this.labelNames,
      unit: this.unit,
      values: this.snapshot(),
    };
  }

  /** Build the snapshots. */
  protected abstract generateSnapshot(): ReadonlyArray<ValueSnapshot | HistogramSnapshot>;
  /** The rates the registry ticks. */
  abstract rates(): Iterable<MetricRate>;
  /** Drop every series. */
  abstract clear(): void;
  /**
   * Reset one series.
   *
   * @param labels Its labels.
   * @param timestamp When.
   */
  abstract reset(labels?: Labels | null, timestamp?: number): void;
  /**
   * Reset every series.
   *
   * @param timestamp When.
   */
  abstract resetAll(timestamp?: number): void;
}

/** A series of a gauge, counter or info metric. */
export interface ValueSeries {
  /** The value. */
  value: number;
  /** The labels. */
  readonly labels: Labels;
  /** When it last changed. */
  timestamp: number;
  /** Its rate, when kept. */
  readonly rate: MetricRate | null;
}

/** A value that goes up and down. */
export class GaugeMetric extends BaseMetric {
  /** `"gauge"`. */
  readonly type: MetricType = MetricType.GAUGE;
  /** The series by labels hash. */
  readonly values: Map<string, ValueSeries> = new Map();

  /**
   * The series of `labels`, made (at 0) when new: a hot path may keep it.
   *
   * @param labels The labels.
   * @returns The series.
   */
  series(labels?: Labels | null): ValueSeries {
    const key = this.hashingLabels(labels);
    let s = this.values.get(key);
    if (!s) {
      s = {
        value: 0,
        labels: this.labelsOf(labels),
        timestamp: Date.now(),
        rate: this.keepsRate ? new MetricRate() : null,
      };
      this.values.set(key, s);
    }
    return s;
  }

  /**
   * Add `delta` to a series.
   *
   * @param s The series.
   * @param delta What to add.
   * @param timestamp When; now when omitted.
   */
  add(s: ValueSeries, delta: number, timestamp?: number): void {
    s.value += delta;
    s.timestamp = timestamp ?? Date.now();
    s.rate?.update(s.value);
    this.changed(s.value, s.labels, s.timestamp);
  }

  /**
   * Add to the series of `labels`.
   *
   * @param labels The labels.
   * @param value What to add. @default {1}
   * @param timestamp When.
   * @returns The series.
   */
  increment(labels?: Labels | null, value = 1, timestamp?: number): ValueSeries {
    const s = this.series(labels);
    this.add(s, value, timestamp);
    return s;
  }

  /**
   * Subtract from the series of `labels`.
   *
   * @param labels The labels.
   * @param value What to subtract. @default {1}
   * @param timestamp When.
   * @returns The series.
   */
  decrement(labels?: Labels | null, value = 1, timestamp?: number): ValueSeries {
    const s = this.series(labels);
    this.add(s, -value, timestamp);
    return s;
  }

  /**
   * Set the series of `labels`.
   *
   * @param value The value.
   * @param labels The labels.
   * @param timestamp When.
   * @returns The series.
   */
  set(value: number, labels?: Labels | null, timestamp?: number): ValueSeries {
    const s = this.series(labels);
    s.value = value;
    s.timestamp = timestamp ?? Date.now();
    s.rate?.update(value);
    this.changed(value, s.labels, s.timestamp);
    return s;
  }

  /**
   * The series of `labels`, if it exists.
   *
   * @param labels The labels.
   * @returns The series.
   */
  get(labels?: Labels | null): ValueSeries | undefined {
    return this.values.get(this.hashingLabels(labels));
  }

  /** See {@linkcode BaseMetric.reset}. */
  reset(labels?: Labels | null, timestamp?: number): void {
    this.set(0, labels, timestamp);
  }

  /** See {@linkcode BaseMetric.resetAll}. */
  resetAll(timestamp?: number): void {
    const t = timestamp ?? Date.now();
    for (const s of this.values.values()) {
      s.value = 0;
      s.timestamp = t;
    }
    this.changed(null, null, t);
  }

  /** See {@linkcode BaseMetric.clear}. */
  clear(): void {
    this.values.clear();
    this.changed(null, null, Date.now());
  }

  /** See {@linkcode BaseMetric.rates}. */
  *rates(): Iterable<MetricRate> {
    for (const s of this.values.values()) if (s.rate) yield s.rate;
  }

  /** See {@linkcode BaseMetric.snapshot}. */
  protected generateSnapshot(): ValueSnapshot[] {
    const out: ValueSnapshot[] = [];
    for (const [key, s] of this.values) {
      out.push(
        s.rate
          ? { key, value: s.value, labels: s.labels, timestamp: s.timestamp, rate: s.rate.rate }
          : { key, value: s.value, labels: s.labels, timestamp: s.timestamp },
      );
    }
    return out;
  }
}

/** A value that only goes up. */
export class CounterMetric extends GaugeMetric {
  /** `"counter"`. */
  override readonly type: MetricType = MetricType.COUNTER;

  /**
   * Counters cannot go down.
   *
   * @throws {Error} always.
   */
  override decrement(): ValueSeries {
    throw new Error(`The counter '${this.name}' can't be decreased`);
  }
}

/** A value that describes (a version, a name): Prometheus shows it as a label. */
export class InfoMetric extends BaseMetric {
  /** `"info"`. */
  readonly type: MetricType = MetricType.INFO;
  /** The series by labels hash. */
  readonly values: Map<string, { value: unknown; labels: Labels; timestamp: number }> = new Map();

  /**
   * Set the value of the series of `labels`.
   *
   * @param value The value.
   * @param labels The labels.
   * @param timestamp When.
   */
  set(value: unknown, labels?: Labels | null, timestamp?: number): void {
    const key = this.hashingLabels(labels);
    const t = timestamp ?? Date.now();
    const s = this.values.get(key);
    if (s) {
      if (s.value === value) return;
      s.value = value;
      s.timestamp = t;
    } else this.values.set(key, { value, labels: this.labelsOf(labels), timestamp: t });
    this.changed(value, labels ?? null, t);
  }

  /** See {@linkcode BaseMetric.reset}. */
  reset(labels?: Labels | null, timestamp?: number): void {
    this.set(null, labels, timestamp);
  }

  /** See {@linkcode BaseMetric.resetAll}. */
  resetAll(timestamp?: number): void {
    for (const s of this.values.values()) s.value = null;
    this.changed(null, null, timestamp ?? Date.now());
  }

  /** See {@linkcode BaseMetric.clear}. */
  clear(): void {
    this.values.clear();
    this.changed(null, null, Date.now());
  }

  /** See {@linkcode BaseMetric.rates}. */
  rates(): Iterable<MetricRate> {
    return [];
  }

  /** See {@linkcode BaseMetric.snapshot}. */
  protected generateSnapshot(): ValueSnapshot[] {
    return [...this.values].map(([key, s]) => ({
      key,
      value: s.value,
      labels: s.labels,
      timestamp: s.timestamp,
    }));
  }
}

/** Most samples kept per slice of a quantile window: memory stays bounded under any load. */
const MAX_SAMPLES = 1024;

/** A uniform random number in (0, 1]: its logarithm is finite. */
const uniform = (): number => 1 - Math.random();

/**
 * One slice of a quantile window: every observation until it holds {@linkcode MAX_SAMPLES}, then
 * a uniform sample of all it has seen. The sample is Li's "Algorithm L" reservoir: instead of a
 * random number per observation, it draws how many observations to skip before the next one
 * replaces a random sample, so a busy slice spends a few random draws per replacement and only a
 * comparison per observation.
 */
class QuantileSlice {
  /** The samples. */
  readonly samples: number[] = [];
  /** Observations seen since the slice was cleared. */
  seen = 0;
  /** Algorithm L's running weight (the largest of `seen` uniform keys, as a power). */
  #w = 0;
  /** The 1-based number of the observation that replaces a sample next. */
  #next = 0;

  /** Forget every observation. */
  clear(): void {
    this.samples.length = 0;
    this.seen = 0;
  }

  /**
   * Observe a value.
   *
   * @param value The value.
   */
  add(value: number): void {
    const n = ++this.seen;
    if (n <= MAX_SAMPLES) {
      this.samples.push(value);
      if (n === MAX_SAMPLES) {
        this.#w = Math.exp(Math.log(uniform()) / MAX_SAMPLES);
        this.#skip();
      }
    } else if (n === this.#next) {
      this.samples[Math.floor(Math.random() * MAX_SAMPLES)] = value;
      this.#w *= Math.exp(Math.log(uniform()) / MAX_SAMPLES);
      this.#skip();
    }
  }

  #skip(): void {
    this.#next = this.seen + Math.floor(Math.log(uniform()) / Math.log(1 - this.#w)) + 1;
  }
}

/**
 * Quantiles over the last `maxAgeSeconds`, in `ageBuckets` slices that rotate as time passes (no
 * timer: each observation or snapshot moves the window on). A slice past 1024 observations keeps
 * a uniform sample of them (reservoir sampling).
 */
export class TimeWindowQuantiles {
  readonly #quantiles: readonly number[];
  readonly #sliceMs: number;
  readonly #slices: QuantileSlice[];
  #slot: number;
  /** When the current slice ends, ms since the epoch: an observation before it only compares. */
  #slotEnd: number;

  /**
   * A window.
   *
   * @param quantiles The quantiles, ascending.
   * @param maxAgeSeconds The window.
   * @param ageBuckets Its slices.
   */
  constructor(quantiles: readonly number[], maxAgeSeconds: number, ageBuckets: number) {
    this.#quantiles = quantiles;
    this.#sliceMs = maxAgeSeconds * 1000 / ageBuckets;
    this.#slices = Array.from({ length: ageBuckets }, () => new QuantileSlice());
    this.#slot = Math.floor(Date.now() / this.#sliceMs);
    this.#slotEnd = (this.#slot + 1) * this.#sliceMs;
  }

  #rotate(now: number): void {
    const slot = Math.floor(now / this.#sliceMs);
    const n = this.#slices.length;
    for (let s = Math.max(this.#slot + 1, slot - n + 1); s <= slot; s++) {
      this.#slices[s % n]!.clear();
    }
    if (slot > this.#slot) {
      this.#slot = slot;
      this.#slotEnd = (slot + 1) * this.#sliceMs;
    }
  }

  /**
   * Observe a value.
   *
   * @param value The value.
   * @param now Now, in ms since the epoch.
   */
  add(value: number, now: number): void {
    if (now >= this.#slotEnd) this.#rotate(now);
    this.#slices[this.#slot % this.#slices.length]!.add(value);
  }

  /**
   * The statistics of the window.
   *
   * @returns min, mean, variance, stdDev, max and the quantiles.
   */
  snapshot(): Pick<
    HistogramSnapshot,
    "min" | "mean" | "variance" | "stdDev" | "max" | "quantiles"
  > {
    this.#rotate(Date.now());
    const samples: number[] = [];
    for (const s of this.#slices) for (const v of s.samples) samples.push(v);
    samples.sort((a, b) => a - b);
    const n = samples.length;
    const mean = n ? samples.reduce((a, b) => a + b, 0) / n : null;
    const variance = n > 1 ? samples.reduce((a, b) => a + (b - mean!) ** 2, 0) / (n - 1) : null;
    const quantiles: Record<string, number | undefined> = {};
    for (const q of this.#quantiles) quantiles[q] = samples[Math.ceil(q * n) - 1];
    return {
      min: n ? samples[0]! : null,
      mean,
      variance,
      stdDev: variance ? Math.sqrt(variance) : null,
      max: n ? samples[n - 1]! : null,
      quantiles,
    };
  }
}

/** A series of a histogram. */
export interface HistogramSeries {
  /** The labels. */
  readonly labels: Labels;
  /** When it was last observed. */
  timestamp: number;
  /** Sum of the observations. */
  sum: number;
  /** Number of observations. */
  count: number;
  /** The last observation. */
  lastValue: number | null;
  /** Observations at or below each bound. */
  bucketValues: number[] | null;
  /** The quantile window. */
  quantileValues: TimeWindowQuantiles | null;
  /** Its rate, when kept. */
  readonly rate: MetricRate | null;
}

/** A distribution of observed values: buckets, and quantiles over a sliding window. */
export class HistogramMetric extends BaseMetric {
  /** `"histogram"`. */
  readonly type: MetricType = MetricType.HISTOGRAM;
  /** The bucket bounds, ascending, if any. */
  readonly buckets: readonly number[] | null;
  /** The quantiles, ascending, if any. */
  readonly quantiles: readonly number[] | null;
  /** The quantile window. */
  readonly maxAgeSeconds: number;
  /** Slices of the window. */
  readonly ageBuckets: number;
  /** The series by labels hash. */
  readonly values: Map<string, HistogramSeries> = new Map();

  /**
   * Make a histogram of a registry.
   *
   * @param def Its definition.
   * @param host Its registry.
   */
  constructor(def: MetricDefinition, host: MetricHost) {
    super(def, host);
    let buckets: number[] | null = null;
    if (def.linearBuckets) {
      const { start, width, count } = def.linearBuckets;
      buckets = Array.from({ length: count }, (_, i) => start + i * width);
    } else if (def.exponentialBuckets) {
      const { start, factor, count } = def.exponentialBuckets;
      buckets = Array.from({ length: count }, (_, i) => start * factor ** i);
    } else if (Array.isArray(def.buckets)) buckets = [...def.buckets];
    else if (def.buckets === true) buckets = [...host.defaults.buckets];
    this.buckets = buckets ? buckets.sort((a, b) => a - b) : null;
    const q = Array.isArray(def.quantiles)
      ? [...def.quantiles]
      : def.quantiles === true
      ? [...host.defaults.quantiles]
      : null;
    this.quantiles = q ? q.sort((a, b) => a - b) : null;
    this.maxAgeSeconds = def.maxAgeSeconds ?? host.defaults.maxAgeSeconds;
    this.ageBuckets = def.ageBuckets ?? host.defaults.ageBuckets;
  }

  #fresh(s: HistogramSeries, timestamp: number): void {
    s.timestamp = timestamp;
    s.sum = 0;
    s.count = 0;
    s.lastValue = null;
    s.bucketValues = this.buckets ? this.buckets.map(() => 0) : null;
    s.quantileValues = this.quantiles
      ? new TimeWindowQuantiles(this.quantiles, this.maxAgeSeconds, this.ageBuckets)
      : null;
  }

  /**
   * The series of `labels`, made when new: a hot path may keep it.
   *
   * @param labels The labels.
   * @returns The series.
   */
  series(labels?: Labels | null): HistogramSeries {
    const key = this.hashingLabels(labels);
    let s = this.values.get(key);
    if (!s) {
      s = {
        labels: this.labelsOf(labels),
        timestamp: 0,
        sum: 0,
        count: 0,
        lastValue: null,
        bucketValues: null,
        quantileValues: null,
        rate: this.keepsRate ? new MetricRate() : null,
      };
      this.#fresh(s, Date.now());
      this.values.set(key, s);
    }
    return s;
  }

  /**
   * Observe a value in a series.
   *
   * @param s The series.
   * @param value The value.
   * @param timestamp When; now when omitted.
   */
  record(s: HistogramSeries, value: number, timestamp?: number): void {
    const t = timestamp ?? Date.now();
    s.timestamp = t;
    s.sum += value;
    s.count++;
    s.lastValue = value;
    const bv = s.bucketValues;
    if (bv) {
      const b = this.buckets!;
      for (let i = b.length - 1; i >= 0 && value <= b[i]!; i--) bv[i]!++;
    }
    s.quantileValues?.add(value, t);
    s.rate?.update(s.count);
    this.changed(value, s.labels, t);
  }

  /**
   * Observe a value.
   *
   * @param value The value.
   * @param labels The labels.
   * @param timestamp When.
   * @returns The series.
   */
  observe(value: number, labels?: Labels | null, timestamp?: number): HistogramSeries {
    const s = this.series(labels);
    this.record(s, value, timestamp);
    return s;
  }

  /** See {@linkcode BaseMetric.reset}. */
  reset(labels?: Labels | null, timestamp?: number): void {
    const s = this.values.get(this.hashingLabels(labels));
    if (!s) return;
    this.#fresh(s, timestamp ?? Date.now());
    this.changed(null, labels ?? null, s.timestamp);
  }

  /** See {@linkcode BaseMetric.resetAll}. */
  resetAll(timestamp?: number): void {
    const t = timestamp ?? Date.now();
    for (const s of this.values.values()) this.#fresh(s, t);
    this.changed(null, null, t);
  }

  /** See {@linkcode BaseMetric.clear}. */
  clear(): void {
    this.values.clear();
    this.changed(null, null, Date.now());
  }

  /** See {@linkcode BaseMetric.rates}. */
  *rates(): Iterable<MetricRate> {
    for (const s of this.values.values()) if (s.rate) yield s.rate;
  }

  /** See {@linkcode BaseMetric.snapshot}. */
  protected generateSnapshot(): HistogramSnapshot[] {
    const out: HistogramSnapshot[] = [];
    for (const [key, s] of this.values) {
      const snap: Record<string, unknown> = {
        key,
        labels: s.labels,
        count: s.count,
        sum: s.sum,
        lastValue: s.lastValue,
        timestamp: s.timestamp,
      };
      if (this.buckets && s.bucketValues) {
        const b: Record<string, number> = {};
        this.buckets.forEach((bound, i) => (b[bound] = s.bucketValues![i]!));
        snap.buckets = b;
      }
      if (s.quantileValues) Object.assign(snap, s.quantileValues.snapshot());
      if (s.rate) snap.rate = s.rate.rate;
      out.push(snap as unknown as HistogramSnapshot);
    }
    return out;
  }
}
