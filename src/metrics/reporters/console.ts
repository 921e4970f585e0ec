/**
 * The Console reporter: every `interval` seconds the metrics (by default only those that changed)
 * are printed, one line a series, as Moleculer's `ConsoleReporter` lists them.
 *
 * @module
 */

import { MetricType } from "../constants.ts";
import type { BaseMetric, HistogramSnapshot, Labels, ValueSnapshot } from "../types.ts";
import { BaseReporter, type BaseReporterOptions, type ReporterRegistry } from "./reporter.ts";

/** Options of the Console reporter (Moleculer's names and defaults). */
export interface ConsoleReporterOptions extends BaseReporterOptions {
  /** Seconds between prints. @default {5} */
  interval?: number;
  /** Print only the metrics that changed since the last print. @default {true} */
  onlyChanges?: boolean;
  /** Where lines go. @default {console.log} */
  logger?: ((line: string) => void) | null;
  /** Accepted for Moleculer's option set; lines are never colored. @default {true} */
  colors?: boolean;
}

const fmt = (v: unknown) => (typeof v === "number" ? Number(v.toFixed(2)).toString() : String(v));

/** Prints the metrics. */
export class ConsoleReporter extends BaseReporter {
  /** The options, complete. */
  readonly opts: Required<Omit<ConsoleReporterOptions, keyof BaseReporterOptions>>;
  readonly #changed = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: ConsoleReporterOptions = {}) {
    super(opts);
    this.opts = {
      interval: opts.interval ?? 5,
      onlyChanges: opts.onlyChanges ?? true,
      logger: opts.logger ?? null,
      colors: opts.colors ?? true,
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
      this.#timer = setInterval(() => this.print(), this.opts.interval * 1000);
    }
  }

  /** Stop the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Note a change.
   *
   * @param metric The metric.
   */
  metricChanged(metric: BaseMetric): void {
    if (this.matchMetricName(metric.name)) this.#changed.add(metric.name);
  }

  #labels(labels: Labels): string {
    const keys = Object.keys(labels);
    return keys.length
      ? "{" + keys.map((k) => `${this.formatLabelName(k)}: ${fmt(labels[k])}`).join(", ") + "}"
      : "";
  }

  /**
   * The lines of the metrics to print now.
   *
   * @returns The lines.
   */
  lines(): string[] {
    const out: string[] = [];
    for (const m of this.registry?.store.values() ?? []) {
      if (!this.matchMetricName(m.name)) continue;
      if (this.opts.onlyChanges && !this.#changed.has(m.name)) continue;
      const name = this.formatMetricName(m.name);
      const unit = m.unit ? ` ${m.unit}` : "";
      const snap = m.snapshot();
      if (snap.length === 0) {
        out.push(`${name}: <no values>`);
        continue;
      }
      for (const item of snap) {
        const labels = this.#labels(item.labels);
        if (m.type === MetricType.HISTOGRAM) {
          const h = item as HistogramSnapshot;
          const q = h.quantiles
            ? " | " + Object.entries(h.quantiles).map(([k, v]) => `p${k}: ${fmt(v)}`).join(" | ")
            : "";
          out.push(
            `${name}${labels}: count: ${h.count} | sum: ${fmt(h.sum)} | min: ${fmt(h.min)} | ` +
              `mean: ${fmt(h.mean)} | max: ${fmt(h.max)}${q}${unit}`,
          );
        } else {
          const v = item as ValueSnapshot;
          const rate = v.rate !== undefined ? ` | rate: ${fmt(v.rate)}/min` : "";
          out.push(`${name}${labels}: ${fmt(v.value)}${unit}${rate}`);
        }
      }
    }
    this.#changed.clear();
    return out;
  }

  /** Print now. */
  print(): void {
    const lines = this.lines();
    if (lines.length === 0) return;
    const print = this.opts.logger ?? ((l: string) => console.log(l));
    print(`------------------- [ METRICS START (${lines.length} metrics) ] -------------------`);
    for (const l of lines) print(l);
    print("-------------------- [ METRICS END ] --------------------");
  }
}
