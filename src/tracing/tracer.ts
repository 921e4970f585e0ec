/**
 * The tracer: samples root spans, starts spans, and hands the sampled ones to the exporters.
 * Moleculer 0.15's `Tracer`, option for option.
 *
 * @module
 */

import type { Logger } from "../logging.ts";
import type { ResolvedTracingOptions } from "./options.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { Span, type SpanHost, type SpanOptions, withParentSpan } from "./span.ts";
import type {
  ExporterTracer,
  TraceContextSource,
  TraceExporter,
  TracerHost,
} from "./exporters/exporter.ts";
import { resolveExporter } from "./exporters/resolve.ts";

/**
 * What hosts a tracer and what contexts use to start spans (`broker.tracer`): the tracer when
 * tracing is on, a non-sampling one when it is off.
 */
export interface SpanFactory {
  /** True when tracing is on. */
  readonly enabled: boolean;
  /**
   * Start a span.
   *
   * @param name Its name.
   * @param opts Its options.
   * @param ctx The context it belongs to, if any.
   * @returns The started span.
   */
  startSpan(name: string, opts?: SpanOptions, ctx?: unknown): Span;
}

/** The tracer of a broker. */
export class Tracer implements SpanHost, SpanFactory, ExporterTracer {
  /** The resolved `tracing` options. */
  readonly opts: ResolvedTracingOptions;
  /** The broker side. */
  readonly host: TracerHost;
  /** The tracer's logger (`TRACER`). */
  readonly logger: Logger;
  /** The tags every span starts with. */
  readonly defaultTags: Record<string, unknown> | null;
  /** The exporters, in the order given. */
  readonly exporters: readonly TraceExporter[];
  /** The exporter that gives `traceparent` headers, if any. */
  readonly traceContext: TraceContextSource | null;
  readonly #rateLimiter: RateLimiter | null;
  #sampleCounter = 0;

  /**
   * Make the tracer of a broker; exporters start with {@linkcode Tracer.start}.
   *
   * @param opts The resolved `tracing` options.
   * @param host The broker side.
   * @throws {BrokerOptionsError} for an unknown exporter.
   */
  constructor(opts: ResolvedTracingOptions, host: TracerHost) {
    this.opts = opts;
    this.host = host;
    this.logger = host.getLogger("TRACER");
    const tps = opts.sampling.tracesPerSecond;
    this.#rateLimiter = tps !== null && tps > 0 ? new RateLimiter(tps) : null;
    this.exporters = opts.enabled ? opts.exporter.map((e, i) => resolveExporter(e, i)) : [];
    const source = this.exporters.find((e) =>
      typeof (e as Partial<TraceContextSource>).traceparent === "function"
    );
    this.traceContext = (source as TraceContextSource | undefined) ?? null;
    const dt = opts.defaultTags;
    this.defaultTags = typeof dt === "function" ? dt(this) : dt ?? null;
  }

  /** True when tracing is on. */
  get enabled(): boolean {
    return this.opts.enabled;
  }

  /** The error fields kept in spans. */
  get errorFields(): readonly string[] {
    return this.opts.errorFields;
  }

  /** Start the exporters (the broker starts). */
  async start(): Promise<void> {
    if (!this.opts.enabled) return;
    for (const e of this.exporters) await e.init?.(this);
    this.logger.info(
      "Tracing: Enabled" +
        (this.exporters.length
          ? `, exporter${this.exporters.length > 1 ? "s" : ""}: ${
            this.exporters.map((e) => e.constructor.name).join(", ")
          }`
          : ""),
    );
  }

  /** Flush and stop the exporters (the broker stops). */
  async stop(): Promise<void> {
    for (const e of this.exporters) {
      try {
        await e.stop?.();
      } catch (err) {
        this.logger.warn(`Trace exporter ${e.constructor.name} failed to stop`, err);
      }
    }
  }

  /**
   * Whether a root span is kept: `minPriority` first, then `tracesPerSecond`, then `rate`
   * (one in 1/rate, counted, as Moleculer does).
   *
   * @param span The span.
   * @returns The decision.
   */
  shouldSample(span: Span): boolean {
    return this.sample(span.priority);
  }

  /**
   * The sampling decision of a new root span of priority `priority`, before it is made.
   *
   * @param priority The span's priority.
   * @returns Whether it is kept.
   */
  sample(priority = 5): boolean {
    const s = this.opts.sampling;
    if (s.minPriority !== null && priority < s.minPriority) return false;
    if (this.#rateLimiter) return this.#rateLimiter.check();
    if (s.rate === 0) return false;
    if (s.rate === 1) return true;
    if (++this.#sampleCounter * s.rate >= 1) {
      this.#sampleCounter = 0;
      return true;
    }
    return false;
  }

  /**
   * Start a span: a child of `opts.parentSpan` when given, with the default tags.
   *
   * @param name Its name.
   * @param opts Its options.
   * @param ctx The context it belongs to, if any.
   * @returns The started span.
   */
  startSpan(name: string, opts: SpanOptions = {}, ctx?: unknown): Span {
    return new Span(this, name, withParentSpan(opts), ctx).start();
  }

  /**
   * A sampled span started: every exporter is told.
   *
   * @param span The span.
   */
  spanStarted(span: Span): void {
    for (const e of this.exporters) {
      try {
        e.spanStarted?.(span);
      } catch (err) {
        this.logger.warn(`Trace exporter ${e.constructor.name} failed on a started span`, err);
      }
    }
  }

  /**
   * A sampled span finished: every exporter is told.
   *
   * @param span The span.
   */
  spanFinished(span: Span): void {
    for (const e of this.exporters) {
      try {
        e.spanFinished?.(span);
      } catch (err) {
        this.logger.warn(`Trace exporter ${e.constructor.name} failed on a finished span`, err);
      }
    }
  }
}
