/**
 * The Event exporter: finished spans go out as the `$tracing.spans` event (an array of spans),
 * batched every `interval` seconds, as Moleculer's `EventTraceExporter` sends them — what
 * Moleculer's tooling and any service of the cluster can consume. Unlike Moleculer's, a batch
 * goes out early once it holds `maxBatchSize` spans (1000).
 *
 * @module
 */

import { BrokerOptionsError } from "../../errors.ts";
import type { Span } from "../span.ts";
import { errorToObject, type ExporterTracer, type TraceExporter } from "./exporter.ts";
import { SpanBatch, type SpanRecord } from "./span_batch.ts";

/** Options of the Event exporter (Moleculer's names and defaults). */
export interface EventExporterOptions {
  /** The event name. @default {"$tracing.spans"} */
  eventName?: string;
  /** Send spans when they start. @default {false} */
  sendStartSpan?: boolean;
  /** Send spans when they finish. @default {true} */
  sendFinishSpan?: boolean;
  /** Broadcast instead of emit. @default {false} */
  broadcast?: boolean;
  /** Only to these groups. @default {null} */
  groups?: string[] | null;
  /** Seconds between batches; 0 sends each span at once. @default {5} */
  interval?: number;
  /**
   * Send a batch early once it holds this many spans; 0 for no limit (Moleculer's exporter has
   * none). It bounds what a busy node keeps between batches, and the size of each event: a
   * `$tracing.spans` that goes to another node must fit in one packet (1 MB on a default NATS
   * server), and a span with its params and response tags is ~0.5 KB of JSON.
   * @default {1000}
   */
  maxBatchSize?: number;
  /** Turns a span into what is sent. @default {null} (the span's fields) */
  spanConverter?: ((span: Span) => unknown) | null;
  /** Tags added to every span. @default {null} */
  defaultTags?: Record<string, unknown> | null;
}

/** Sends spans as `$tracing.spans` events. */
export class EventTraceExporter implements TraceExporter {
  /** The options, complete. */
  readonly opts: Required<EventExporterOptions>;
  #tracer: ExporterTracer | undefined;
  readonly #batch = new SpanBatch();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: EventExporterOptions = {}) {
    this.opts = {
      eventName: "$tracing.spans",
      sendStartSpan: false,
      sendFinishSpan: true,
      broadcast: false,
      groups: null,
      interval: 5,
      maxBatchSize: 1000,
      spanConverter: null,
      defaultTags: null,
      ...opts,
    };
    const max = this.opts.maxBatchSize;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new BrokerOptionsError(
        `Option 'tracing.exporter.options.maxBatchSize' must be a whole number ≥ 0 (0: no limit), got ${
          JSON.stringify(max)
        }`,
        { option: "tracing.exporter.options.maxBatchSize", value: max },
      );
    }
  }

  /**
   * Start: the broker starts.
   *
   * @param tracer The tracer feeding this exporter.
   */
  init(tracer: ExporterTracer): void {
    this.#tracer = tracer;
    if (this.opts.interval > 0) {
      this.#timer = setInterval(() => this.flush(), this.opts.interval * 1000);
    }
  }

  /** Send what is queued and stop the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  /**
   * A sampled span started.
   *
   * @param span A started span.
   */
  spanStarted(span: Span): void {
    // A started span is sent as it is when the batch goes out (finished by then, most likely).
    if (!this.opts.sendStartSpan || !this.#keeps(span)) return;
    this.#batch.addSpan(span);
    this.#added();
  }

  /**
   * A sampled span finished.
   *
   * @param span A finished span.
   */
  spanFinished(span: Span): void {
    if (!this.opts.sendFinishSpan || !this.#keeps(span)) return;
    // A span converter is given the span itself; else the batch keeps its values only.
    if (this.opts.spanConverter) this.#batch.addSpan(span);
    else this.#batch.addFinished(span);
    this.#added();
  }

  /** The spans of the exporter's own event would feed themselves. */
  #keeps(span: Span): boolean {
    return span.tags.eventName !== this.opts.eventName;
  }

  /** Without an interval, each span goes out at once; with one, a full batch goes out early. */
  #added(): void {
    if (this.#timer === undefined) this.flush();
    else if (this.opts.maxBatchSize > 0 && this.#batch.length >= this.opts.maxBatchSize) {
      this.flush();
    }
  }

  /** Send the queued spans now. */
  flush(): void {
    const tracer = this.#tracer;
    if (this.#batch.length === 0 || !tracer) return;
    const data = this.#batch.take(
      (r) => this.#record(r, tracer),
      (span) => this.#convert(span, tracer),
    );
    const opts = this.opts.groups ? { groups: this.opts.groups } : {};
    const sent = this.opts.broadcast
      ? tracer.host.broadcast(this.opts.eventName, data, opts)
      : tracer.host.emit(this.opts.eventName, data, opts);
    sent.catch((err) => tracer.logger.warn("Cannot send the tracing spans event", err));
  }

  /** What is sent of a finished span: its fields, the error as its fields, default tags first. */
  #record(r: SpanRecord, tracer: ExporterTracer): unknown {
    if (r.error) r.error = errorToObject(r.error, tracer.errorFields) ?? r.error;
    if (this.opts.defaultTags) r.tags = { ...this.opts.defaultTags, ...r.tags };
    return r;
  }

  #convert(span: Span, tracer: ExporterTracer): unknown {
    if (this.opts.spanConverter) return this.opts.spanConverter(span);
    return this.#record({ ...span }, tracer);
  }
}
