/**
 * The CSV reporter: every `interval` seconds the series that changed get a row in a CSV file,
 * one file per metric (`mode: "metric"`) or per label set (`mode: "label"`), columns as
 * Moleculer's `CSVReporter` writes them.
 *
 * @module
 */

import { MetricType } from "../constants.ts";
import type {
  BaseMetric,
  HistogramSnapshot,
  Labels,
  MetricObject,
  ValueSnapshot,
} from "../types.ts";
import { BaseReporter, type BaseReporterOptions, type ReporterRegistry } from "./reporter.ts";

/** Options of the CSV reporter (Moleculer's names and defaults). */
export interface CSVReporterOptions extends BaseReporterOptions {
  /** The folder of the files. @default {"./reports/metrics"} */
  folder?: string;
  /** Between fields. @default {","} */
  delimiter?: string;
  /** Between rows. @default {"\n"} */
  rowDelimiter?: string;
  /** One file per `"metric"` or per `"label"` set. @default {"metric"} */
  mode?: "metric" | "label";
  /** Only these metric types. @default {null} */
  types?: string[] | null;
  /** Seconds between writes. @default {5} */
  interval?: number;
  /** The file of a series. @default {null} */
  filenameFormatter?:
    | ((
      metricName: string,
      metric: MetricObject,
      item: ValueSnapshot | HistogramSnapshot,
    ) => string)
    | null;
  /** Rewrites a row before it is written. @default {null} */
  rowFormatter?: ((data: unknown[], headers: string[]) => void) | null;
}

/** Writes the metrics to CSV files. */
export class CSVReporter extends BaseReporter {
  /** The options, complete. */
  readonly opts: Required<Omit<CSVReporterOptions, keyof BaseReporterOptions>>;
  readonly #changed = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #writing: Promise<void> = Promise.resolve();

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: CSVReporterOptions = {}) {
    super(opts);
    this.opts = {
      folder: opts.folder ?? "./reports/metrics",
      delimiter: opts.delimiter ?? ",",
      rowDelimiter: opts.rowDelimiter ?? "\n",
      mode: opts.mode ?? "metric",
      types: opts.types ?? null,
      interval: opts.interval ?? 5,
      filenameFormatter: opts.filenameFormatter ?? null,
      rowFormatter: opts.rowFormatter ?? null,
    };
  }

  /**
   * Start the timer: the broker starts.
   *
   * @param registry The registry.
   */
  override init(registry: ReporterRegistry): void {
    super.init(registry);
    if (this.opts.interval > 0) {
      this.#timer = setInterval(() => void this.flush(), this.opts.interval * 1000);
    }
  }

  /** Write what changed, and stop the timer. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #labelsToStr(labels: Labels | null | undefined): string {
    if (!labels) return "";
    return Object.keys(labels)
      .map((k) => `${this.formatLabelName(k)}=${labels[k]}`)
      .join("--")
      .replace(/\s/g, "_")
      .replace(/[|&:;$%@"<>()+,/?]/g, "");
  }

  /**
   * Note a change.
   *
   * @param metric The metric.
   * @param _value The value.
   * @param labels Its labels.
   */
  metricChanged(metric: BaseMetric, _value: unknown, labels: Labels | null): void {
    if (!this.matchMetricName(metric.name)) return;
    this.#changed.add(`${metric.name}|${this.#labelsToStr(metric.labelsOfSeries(labels))}`);
  }

  #filename(metric: MetricObject, item: ValueSnapshot | HistogramSnapshot): string {
    const name = this.formatMetricName(metric.name);
    if (this.opts.filenameFormatter) return this.opts.filenameFormatter(name, metric, item);
    const folder = this.opts.folder.replace(/\/+$/, "");
    if (this.opts.mode === "label") {
      const l = this.#labelsToStr(item.labels);
      return `${folder}/${name}/${name}${l ? "--" + l : ""}.csv`;
    }
    return `${folder}/${name}.csv`;
  }

  /** Write a row for every series that changed. */
  flush(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#flush());
    return this.#writing;
  }

  async #flush(): Promise<void> {
    const registry = this.registry;
    if (!registry || this.#changed.size === 0) return;
    const list = registry.list({
      types: this.opts.types,
      includes: this.base.includes ?? null,
      excludes: this.base.excludes ?? null,
    });
    const changed = new Set(this.#changed);
    this.#changed.clear();
    for (const metric of list) {
      for (const item of metric.values) {
        if (!changed.has(`${metric.name}|${this.#labelsToStr(item.labels)}`)) continue;
        const headers = ["Timestamp", "Metric"];
        const data: unknown[] = [item.timestamp, this.formatMetricName(metric.name)];
        for (const l of metric.labelNames) {
          headers.push(`Label ${l}`);
          data.push(item.labels[l] ?? "");
        }
        if (metric.type === MetricType.HISTOGRAM) {
          const h = item as HistogramSnapshot;
          headers.push("Count", "Sum");
          data.push(h.count, h.sum);
          for (const [b, n] of Object.entries(h.buckets ?? {})) {
            headers.push(`Bucket_${b}`);
            data.push(n);
          }
          if (h.quantiles) {
            headers.push("Min", "Mean", "Var", "StdDev", "Max");
            data.push(h.min, h.mean, h.variance, h.stdDev, h.max);
            for (const [q, v] of Object.entries(h.quantiles)) {
              headers.push(`Quantile_${q}`);
              data.push(v);
            }
          }
        } else {
          const v = (item as ValueSnapshot).value;
          if (v === null || v === undefined) continue;
          headers.push("Value");
          data.push(v);
        }
        this.opts.rowFormatter?.(data, headers);
        await this.#write(this.#filename(metric, item), headers, data);
      }
    }
  }

  async #write(file: string, headers: string[], data: unknown[]): Promise<void> {
    const { delimiter, rowDelimiter } = this.opts;
    try {
      await Deno.mkdir(file.slice(0, Math.max(file.lastIndexOf("/"), 1)), { recursive: true });
      let exists = true;
      try {
        await Deno.stat(file);
      } catch {
        exists = false;
      }
      const row = data.map((d) => (d === null || d === undefined ? "" : String(d)))
        .join(delimiter) + rowDelimiter;
      await Deno.writeTextFile(
        file,
        (exists ? "" : headers.join(delimiter) + rowDelimiter) + row,
        { append: true },
      );
    } catch (err) {
      this.registry?.logger.error(`Unable to write metric values to '${file}'`, err);
    }
  }
}
