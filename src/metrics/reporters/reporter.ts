/**
 * The metric reporter contract, and the base every built-in reporter extends: Moleculer's
 * `includes`/`excludes` name patterns, name prefix/suffix and formatters.
 *
 * @module
 */

import type { Logger } from "../../logging.ts";
import { matchEventName } from "../../core/event_match.ts";
import type { BaseMetric, Labels, MetricListOptions, MetricObject } from "../types.ts";

/** What a reporter may use of its broker. */
export interface ReporterHost {
  /** This node's id. */
  readonly nodeID: string;
  /** The namespace. */
  readonly namespace: string;
  /**
   * A logger for a module of this node.
   *
   * @param module The module name.
   */
  getLogger(module: string): Logger;
  /** `broker.emit`. */
  emit(event: string, data: unknown, opts?: { groups?: string[] }): Promise<void>;
  /** `broker.broadcast`. */
  broadcast(event: string, data: unknown, opts?: { groups?: string[] }): Promise<void>;
}

/** What a reporter sees of the registry. */
export interface ReporterRegistry {
  /** The broker side. */
  readonly host: ReporterHost;
  /** The registry's logger. */
  readonly logger: Logger;
  /** The metrics by name. */
  readonly store: ReadonlyMap<string, BaseMetric>;
  /**
   * The metrics and their snapshots.
   *
   * @param opts Filters.
   */
  list(opts?: MetricListOptions): MetricObject[];
}

/** A metric reporter (Moleculer's three methods). */
export interface MetricReporter {
  /** Called once, when the broker starts. */
  init(registry: ReporterRegistry): void | Promise<void>;
  /** Called when the broker stops. */
  stop?(): void | Promise<void>;
  /** A value changed. */
  metricChanged?(
    metric: BaseMetric,
    value: unknown,
    labels: Labels | null,
    timestamp: number,
  ): void;
}

/** Options every built-in reporter takes. */
export interface BaseReporterOptions {
  /** Only metrics matching one of these patterns. @default {null} */
  includes?: string | string[] | null;
  /** Not metrics matching one of these patterns. @default {null} */
  excludes?: string | string[] | null;
  /** Put before every metric name. @default {null} */
  metricNamePrefix?: string | null;
  /** Put after every metric name. @default {null} */
  metricNameSuffix?: string | null;
  /** Rewrites metric names. @default {null} */
  metricNameFormatter?: ((name: string) => string) | null;
  /** Rewrites label names. @default {null} */
  labelNameFormatter?: ((name: string) => string) | null;
}

const asList = (v: string | string[] | null | undefined): string[] | null =>
  v === null || v === undefined ? null : Array.isArray(v) ? v : [v];

/** The base of the built-in reporters. */
export abstract class BaseReporter implements MetricReporter {
  /** The options every reporter takes. */
  readonly base: BaseReporterOptions;
  readonly #includes: string[] | null;
  readonly #excludes: string[] | null;
  /** The registry, once started. */
  protected registry: ReporterRegistry | undefined;

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: BaseReporterOptions = {}) {
    this.base = opts;
    this.#includes = asList(opts.includes);
    this.#excludes = asList(opts.excludes);
  }

  /**
   * Start: the broker starts.
   *
   * @param registry The registry.
   */
  init(registry: ReporterRegistry): void | Promise<void> {
    this.registry = registry;
  }

  /**
   * Whether the metric `name` is reported.
   *
   * @param name The metric name.
   */
  matchMetricName(name: string): boolean {
    if (this.#includes && !this.#includes.some((p) => matchEventName(name, p))) return false;
    if (this.#excludes && this.#excludes.some((p) => matchEventName(name, p))) return false;
    return true;
  }

  /**
   * The reported name of a metric.
   *
   * @param name The metric name.
   */
  formatMetricName(name: string): string {
    const n = (this.base.metricNamePrefix ?? "") + name + (this.base.metricNameSuffix ?? "");
    return this.base.metricNameFormatter ? this.base.metricNameFormatter(n) : n;
  }

  /**
   * The reported name of a label.
   *
   * @param name The label name.
   */
  formatLabelName(name: string): string {
    return this.base.labelNameFormatter ? this.base.labelNameFormatter(name) : name;
  }
}
