/**
 * The Event reporter: every `interval` seconds the metrics go out as the `$metrics.snapshot`
 * event (the list `$node.metrics` returns), as Moleculer's `EventReporter` sends them.
 *
 * @module
 */

import type { BaseMetric } from "../types.ts";
import { BaseReporter, type BaseReporterOptions, type ReporterRegistry } from "./reporter.ts";

/** Options of the Event reporter (Moleculer's names and defaults). */
export interface EventReporterOptions extends BaseReporterOptions {
  /** The event name. @default {"$metrics.snapshot"} */
  eventName?: string;
  /** Broadcast instead of emit. @default {false} */
  broadcast?: boolean;
  /** Only to these groups. @default {null} */
  groups?: string[] | null;
  /** Send only the metrics that changed since the last event. @default {false} */
  onlyChanges?: boolean;
  /** Seconds between events. @default {5} */
  interval?: number;
}

/** Sends the metrics as `$metrics.snapshot` events. */
export class EventReporter extends BaseReporter {
  /** The options, complete. */
  readonly opts: Required<Omit<EventReporterOptions, keyof BaseReporterOptions>>;
  readonly #changed = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: EventReporterOptions = {}) {
    super(opts);
    this.opts = {
      eventName: opts.eventName ?? "$metrics.snapshot",
      broadcast: opts.broadcast ?? false,
      groups: opts.groups ?? null,
      onlyChanges: opts.onlyChanges ?? false,
      interval: opts.interval ?? 5,
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
      this.#timer = setInterval(() => this.sendEvent(), this.opts.interval * 1000);
    }
  }

  /** Stop the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Send the event now. */
  sendEvent(): void {
    const registry = this.registry;
    if (!registry) return;
    let list = registry.list({
      includes: this.base.includes ?? null,
      excludes: this.base.excludes ?? null,
    });
    if (this.opts.onlyChanges) list = list.filter((m) => this.#changed.has(m.name));
    this.#changed.clear();
    if (list.length === 0) return;
    const opts = this.opts.groups ? { groups: this.opts.groups } : {};
    const sent = this.opts.broadcast
      ? registry.host.broadcast(this.opts.eventName, list, opts)
      : registry.host.emit(this.opts.eventName, list, opts);
    sent.catch((err) => registry.logger.warn("Cannot send the metrics event", err));
  }

  /**
   * Note a change.
   *
   * @param metric The metric.
   */
  metricChanged(metric: BaseMetric): void {
    if (this.opts.onlyChanges && this.matchMetricName(metric.name)) this.#changed.add(metric.name);
  }
}
