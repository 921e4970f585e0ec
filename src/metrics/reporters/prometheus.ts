/**
 * The Prometheus reporter: an HTTP endpoint on `Deno.serve` (port 3030, path `/metrics`, as
 * Moleculer's) that answers with every metric in Prometheus' text format 0.0.4 — names with `_`
 * for `.` and `-`, `namespace` and `nodeID` labels, histograms as buckets and summaries — gzipped
 * when the scraper accepts it.
 *
 * @module
 */

import { MetricType } from "../constants.ts";
import type { HistogramSnapshot, Labels, ValueSnapshot } from "../types.ts";
import { BaseReporter, type BaseReporterOptions, type ReporterRegistry } from "./reporter.ts";

/** Options of the Prometheus reporter (Moleculer's names and defaults). */
export interface PrometheusReporterOptions extends BaseReporterOptions {
  /** The interface to listen on. @default {"0.0.0.0"} */
  host?: string | null;
  /** The port; 0 picks a free one (see `port` once started). @default {3030} */
  port?: number;
  /** The path of the metrics. @default {"/metrics"} */
  path?: string;
  /** Labels of every series, or a function of the registry returning them. @default {{ namespace, nodeID }} */
  defaultLabels?: Labels | ((registry: ReporterRegistry) => Labels) | null;
}

const val = (v: unknown): unknown => (v === null || v === undefined ? "NaN" : v);
const escape = (v: unknown): unknown =>
  typeof v === "string" ? v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : v;

/** Serves the metrics to Prometheus. */
export class PrometheusReporter extends BaseReporter {
  /** The options, complete. */
  readonly opts: Required<Omit<PrometheusReporterOptions, keyof BaseReporterOptions>>;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #defaultLabels: Labels = {};

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: PrometheusReporterOptions = {}) {
    super(opts);
    this.opts = {
      host: opts.host ?? "0.0.0.0",
      port: opts.port ?? 3030,
      path: opts.path ?? "/metrics",
      defaultLabels: opts.defaultLabels === undefined
        ? (r: ReporterRegistry) => ({ namespace: r.host.namespace, nodeID: r.host.nodeID })
        : opts.defaultLabels,
    };
  }

  /** The port listened on, once started. */
  get port(): number | undefined {
    return this.#server?.addr.port;
  }

  /**
   * Start listening: the broker starts.
   *
   * @param registry The registry.
   */
  override init(registry: ReporterRegistry): Promise<void> {
    super.init(registry);
    const dl = this.opts.defaultLabels;
    this.#defaultLabels = (typeof dl === "function" ? dl(registry) : dl) ?? {};
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#server = Deno.serve({
      hostname: this.opts.host ?? "0.0.0.0",
      port: this.opts.port,
      onListen: (addr) => {
        registry.logger.info(
          `Prometheus metric reporter listening on http://${addr.hostname}:${addr.port}${this.opts.path}`,
        );
        resolve();
      },
    }, (req) => this.#handle(req));
    return promise;
  }

  /** Stop listening. */
  async stop(): Promise<void> {
    await this.#server?.shutdown();
    this.#server = undefined;
  }

  #handle(req: Request): Response {
    if (new URL(req.url).pathname !== this.opts.path) {
      return new Response("Not Found", { status: 404 });
    }
    let content: string;
    try {
      content = this.generatePrometheusResponse();
    } catch (err) {
      this.registry?.logger.error("Unable to generate the Prometheus response", err);
      return new Response("Internal Server Error", { status: 500 });
    }
    const headers: Record<string, string> = {
      "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
    };
    if (req.headers.get("accept-encoding")?.includes("gzip")) {
      headers["Content-Encoding"] = "gzip";
      const body = new Blob([content]).stream().pipeThrough(new CompressionStream("gzip"));
      return new Response(body, { headers });
    }
    return new Response(content, { headers });
  }

  #labels(labels: Labels | null | undefined, extra?: Labels): string {
    const all = { ...this.#defaultLabels, ...labels, ...extra };
    const keys = Object.keys(all);
    if (keys.length === 0) return "";
    return "{" + keys.map((k) => `${this.formatLabelName(k)}="${escape(all[k])}"`).join(",") +
      "}";
  }

  /**
   * The metrics in Prometheus' text format, as Moleculer's reporter writes them.
   *
   * @returns The text.
   */
  generatePrometheusResponse(): string {
    const out: string[] = [];
    for (const metric of this.registry?.store.values() ?? []) {
      if (!this.matchMetricName(metric.name) || metric.name.startsWith("os.datetime")) continue;
      const name = this.formatMetricName(metric.name).replace(/[.-]/g, "_");
      const desc = metric.description ?? metric.name + (metric.unit ? ` (${metric.unit})` : "");
      const snapshot = metric.snapshot();
      if (snapshot.length === 0) continue;
      switch (metric.type) {
        case MetricType.COUNTER:
        case MetricType.GAUGE:
          out.push(`# HELP ${name} ${desc}`, `# TYPE ${name} ${metric.type}`);
          for (const item of snapshot as ValueSnapshot[]) {
            const l = this.#labels(item.labels);
            out.push(`${name}${l} ${val(item.value)}`);
            if (item.rate !== undefined) out.push(`${name}_rate${l} ${val(item.rate)}`);
          }
          out.push("");
          break;
        case MetricType.INFO:
          out.push(`# HELP ${name} ${desc}`, `# TYPE ${name} gauge`);
          for (const item of snapshot as ValueSnapshot[]) {
            out.push(`${name}${this.#labels(item.labels, { value: item.value })} 1`);
          }
          out.push("");
          break;
        case MetricType.HISTOGRAM:
          out.push(`# HELP ${name} ${desc}`, `# TYPE ${name} histogram`);
          for (const item of snapshot as HistogramSnapshot[]) {
            const l = this.#labels(item.labels);
            if (item.buckets) {
              for (const [le, n] of Object.entries(item.buckets)) {
                out.push(`${name}_bucket${this.#labels(item.labels, { le })} ${val(n)}`);
              }
              out.push(`${name}_bucket${this.#labels(item.labels, { le: "+Inf" })} ${item.count}`);
            }
            // Prometheus reads `_sum` and `_count` of a histogram; the quantiles are Moleculer's
            // extra series.
            out.push(`${name}_sum${l} ${val(item.sum)}`, `${name}_count${l} ${val(item.count)}`);
            if (item.quantiles) {
              for (const [q, v] of Object.entries(item.quantiles)) {
                out.push(`${name}${this.#labels(item.labels, { quantile: q })} ${val(v)}`);
              }
              out.push(
                `${name}_min${l} ${val(item.min)}`,
                `${name}_mean${l} ${val(item.mean)}`,
                `${name}_variance${l} ${val(item.variance)}`,
                `${name}_stddev${l} ${val(item.stdDev)}`,
                `${name}_max${l} ${val(item.max)}`,
              );
            }
            if (item.rate !== undefined) out.push(`${name}_rate${l} ${val(item.rate)}`);
          }
          out.push("");
          break;
      }
    }
    return out.join("\n");
  }
}
