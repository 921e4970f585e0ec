/**
 * The OpenTelemetry reporter: every metric is also an instrument of the OpenTelemetry metrics API
 * (`npm:@opentelemetry/api`, loaded by `import()` when this reporter is configured), so Deno's
 * built-in OpenTelemetry (`OTEL_DENO=true`) exports them over OTLP with no SDK. Counters and
 * gauges are observable instruments read at each export; a histogram records every observation.
 *
 * @module
 */

import type * as OTel from "@opentelemetry/api";
import { MetricType } from "../constants.ts";
import type { BaseMetric, Labels, ValueSnapshot } from "../types.ts";
import { BaseReporter, type BaseReporterOptions, type ReporterRegistry } from "./reporter.ts";

/** Options of the OpenTelemetry reporter. */
export interface OpenTelemetryReporterOptions extends BaseReporterOptions {
  /** The meter's name. @default {"denolecular"} */
  meterName?: string;
  /** The OpenTelemetry API module to use; `npm:@opentelemetry/api` when omitted. */
  api?: typeof OTel;
}

function attributes(labels: Labels | null | undefined): OTel.Attributes {
  const out: OTel.Attributes = {};
  if (!labels) return out;
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = v;
    else if (v !== undefined) out[k] = String(v);
  }
  return out;
}

/** Makes every metric an OpenTelemetry instrument. */
export class OpenTelemetryReporter extends BaseReporter {
  /** The options. */
  readonly opts: OpenTelemetryReporterOptions;
  #meter: OTel.Meter | undefined;
  readonly #histograms = new Map<string, OTel.Histogram>();
  readonly #observed = new Set<string>();

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: OpenTelemetryReporterOptions = {}) {
    super(opts);
    this.opts = opts;
  }

  /**
   * Load the API and make the instruments of the metrics registered so far.
   *
   * @param registry The registry.
   */
  override async init(registry: ReporterRegistry): Promise<void> {
    super.init(registry);
    const api = this.opts.api ?? await import("@opentelemetry/api");
    this.#meter = api.metrics.getMeter(this.opts.meterName ?? "denolecular");
    for (const m of registry.store.values()) this.#instrument(m);
  }

  #instrument(m: BaseMetric): void {
    const meter = this.#meter;
    if (!meter || !this.matchMetricName(m.name)) return;
    const name = this.formatMetricName(m.name);
    if (m.type === MetricType.HISTOGRAM) {
      if (!this.#histograms.has(m.name)) {
        this.#histograms.set(
          m.name,
          meter.createHistogram(name, {
            ...(m.description ? { description: m.description } : {}),
            ...(m.unit === "millisecond" ? { unit: "ms" } : {}),
          }),
        );
      }
      return;
    }
    if (this.#observed.has(m.name)) return;
    this.#observed.add(m.name);
    const opts = m.description ? { description: m.description } : {};
    const instrument = m.type === MetricType.COUNTER
      ? meter.createObservableCounter(name, opts)
      : meter.createObservableGauge(name, opts);
    instrument.addCallback((result) => {
      for (const item of m.snapshot() as ValueSnapshot[]) {
        if (m.type === MetricType.INFO) {
          result.observe(1, { ...attributes(item.labels), value: String(item.value) });
        } else if (typeof item.value === "number") {
          result.observe(item.value, attributes(item.labels));
        }
      }
    });
  }

  /**
   * A value changed: histograms record it; a metric seen for the first time gets its instrument.
   *
   * @param metric The metric.
   * @param value The value.
   * @param labels Its labels.
   */
  metricChanged(metric: BaseMetric, value: unknown, labels: Labels | null): void {
    if (!this.#meter) return;
    if (metric.type === MetricType.HISTOGRAM) {
      if (!this.#histograms.has(metric.name)) this.#instrument(metric);
      if (typeof value === "number") {
        this.#histograms.get(metric.name)?.record(value, attributes(labels));
      }
    } else if (!this.#observed.has(metric.name)) this.#instrument(metric);
  }
}
