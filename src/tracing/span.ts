/**
 * A tracing span, shaped as Moleculer's: the same enumerable fields (what the Event exporter
 * sends and Moleculer's tooling reads), the same defaults, the same parent rules.
 *
 * @module
 */

import { epochMs } from "../_util/clock.ts";
import { nextId } from "../_util/ids.ts";

/** The service a span belongs to, as spans carry it. */
export interface SpanService {
  /** Service name. */
  readonly name: string;
  /** Service version, when it has one. */
  readonly version?: string | number | undefined;
  /** Full name, e.g. `v2.greeter`. */
  readonly fullName: string;
}

/** Options of a new span (`ctx.startSpan(name, opts)`, `tracer.startSpan(name, opts)`). */
export interface SpanOptions {
  /** The span id; a new id when omitted. Action spans use the context id, as Moleculer's. */
  id?: string;
  /** `"action"`, `"event"` or `"custom"`. @default {"custom"} */
  type?: string;
  /** The trace id; the span's own id when omitted (a new trace). */
  traceID?: string | null;
  /** The parent span id, or null for a root span. */
  parentID?: string | null;
  /** The service: a name or `{ name, version, fullName }`. */
  service?: string | SpanService | null;
  /** The sampling decision; the tracer decides when omitted (or null). */
  sampled?: boolean | null;
  /** Priority, compared with `sampling.minPriority`. @default {5} */
  priority?: number;
  /** Tags of the span. Without default tags the span adopts this object (it is not copied). */
  tags?: Record<string, unknown>;
  /** Tags merged in first (the tracer's `defaultTags`). */
  defaultTags?: Record<string, unknown> | null;
  /** A parent span: its trace, id and sampling decision, unless given here. */
  parentSpan?: Span;
  /** Anything else; `ctx` is kept as `span.ctx` until the span finishes. */
  [key: string]: unknown;
}

/** A timed log entry of a span (`span.log`). */
export interface SpanLog {
  /** What happened. */
  readonly name: string;
  /** Its fields. */
  readonly fields: Record<string, unknown>;
  /** When, in ms since the epoch. */
  readonly time: number;
  /** Ms since the span started. */
  readonly elapsed: number;
}

/** What a span needs from its tracer. */
export interface SpanHost {
  /** Tags every span starts with, unless its options give `defaultTags`. */
  readonly defaultTags?: Record<string, unknown> | null;
  /** Whether a new root span is sampled. */
  shouldSample(span: Span): boolean;
  /** A sampled span started. */
  spanStarted(span: Span): void;
  /** A sampled span finished. */
  spanFinished(span: Span): void;
}

/** A tracer that samples nothing and exports nothing: spans made without a broker tracer. */
export const NO_TRACER: SpanHost = Object.freeze({
  shouldSample: () => false,
  spanStarted: () => {},
  spanFinished: () => {},
});

/**
 * One timed operation of a trace. The enumerable own fields are Moleculer's (`name`, `type`,
 * `id`, `traceID`, `parentID`, `service`, `priority`, `sampled`, `startTime`, `startTicks`,
 * `finishTime`, `duration`, `error`, `logs`, `tags`); the tracer and options stay private.
 *
 * @example
 * ```ts
 * import { Span } from "./span.ts";
 * import { NO_TRACER } from "./span.ts";
 *
 * const span = new Span(NO_TRACER, "load", { tags: { user: 1 } }).start();
 * const child = span.startSpan("query");
 * child.finish();
 * span.finish();
 * console.log(child.traceID === span.id, child.parentID === span.id); // true true
 * ```
 */
export class Span {
  /** The span's name, e.g. `action 'math.add'`. */
  name: string;
  /** `"action"`, `"event"` or `"custom"`. */
  type: string;
  /** The span id. */
  id: string;
  /** The trace id (the root span's id). */
  traceID: string;
  /** The parent span's id, or null. */
  parentID: string | null;
  /** The service, when the span belongs to one. */
  service?: SpanService;
  /** Priority (see `sampling.minPriority`). */
  priority: number;
  /** Whether the span is exported. */
  sampled: boolean;
  /** Start, in ms since the epoch. */
  startTime: number | null = null;
  /** `performance.now()` at the start, for precise durations. */
  startTicks: number | null = null;
  /** End, in ms since the epoch. */
  finishTime: number | null = null;
  /** Duration in ms. */
  duration: number | null = null;
  /** The error it ended with, or `true` for an unnamed failure. */
  error: unknown = null;
  /** Timed log entries. */
  logs: SpanLog[] = NO_LOGS;
  /** Tags. */
  tags: Record<string, unknown>;
  readonly #tracer: SpanHost;
  /** The default tags the span's children inherit, when its options gave some. */
  readonly #defaultTags: Record<string, unknown> | null | undefined;
  /** The context of a context's span, until the span finishes (so a batch of spans holds none). */
  #ctx: unknown;

  /**
   * A span; call {@linkcode Span.start} to start it (the tracer's `startSpan` does).
   *
   * @param tracer The tracer that samples and exports it.
   * @param name Its name.
   * @param opts Its options.
   * @param ctx The context it belongs to, if any.
   */
  constructor(tracer: SpanHost, name: string, opts: SpanOptions = {}, ctx?: unknown) {
    this.#tracer = tracer;
    this.#defaultTags = opts.defaultTags;
    this.#ctx = ctx ?? opts.ctx;
    this.name = name;
    this.type = opts.type ?? "custom";
    this.id = opts.id ?? nextId();
    this.traceID = opts.traceID ?? this.id;
    this.parentID = opts.parentID ?? null;
    const svc = opts.service;
    if (svc) this.service = serviceOf(svc);
    this.priority = opts.priority ?? 5;
    this.sampled = opts.sampled ?? tracer.shouldSample(this);
    const defaults = opts.defaultTags !== undefined ? opts.defaultTags : tracer.defaultTags;
    // A span of every call: no copy of its tags unless default tags come first.
    this.tags = defaults ? { ...defaults, ...opts.tags } : opts.tags ?? {};
  }

  /** The context the span belongs to; released when the span finishes. */
  get ctx(): unknown {
    return this.#ctx;
  }

  /**
   * Start the span and tell the tracer.
   *
   * @param time The start in ms since the epoch; now when omitted.
   * @returns This span.
   */
  start(time?: number): this {
    // One clock read: the epoch start is derived from it (Moleculer reads Date.now() too).
    const ticks = performance.now();
    this.startTicks = ticks;
    this.startTime = time ?? epochMs(ticks);
    if (this.sampled) this.#tracer.spanStarted(this);
    return this;
  }

  /** Now, in ms since the epoch, with the precision of `performance.now()`. */
  getTime(): number {
    return (this.startTime ?? Date.now()) + performance.now() - (this.startTicks ?? 0);
  }

  /**
   * Add tags.
   *
   * @param tags The tags.
   * @returns This span.
   */
  addTags(tags: Record<string, unknown>): this {
    Object.assign(this.tags, tags);
    return this;
  }

  /**
   * Add a timed log entry.
   *
   * @param name What happened.
   * @param fields Its fields.
   * @param time When; now when omitted.
   * @returns This span.
   */
  log(name: string, fields?: Record<string, unknown>, time?: number): this {
    const t = time ?? this.getTime();
    if (this.logs === NO_LOGS) this.logs = [];
    this.logs.push({ name, fields: fields ?? {}, time: t, elapsed: t - (this.startTime ?? t) });
    return this;
  }

  /**
   * Mark the span failed.
   *
   * @param err The error; `true` when none is given.
   * @returns This span.
   */
  setError(err?: unknown): this {
    this.error = err ?? true;
    return this;
  }

  /**
   * Finish the span and tell the tracer.
   *
   * @param time The end in ms since the epoch; now when omitted.
   * @returns This span.
   */
  finish(time?: number): this {
    this.finishTime = time ?? this.getTime();
    this.duration = this.finishTime - (this.startTime ?? this.finishTime);
    if (this.sampled) this.#tracer.spanFinished(this);
    this.#ctx = undefined;
    return this;
  }

  /** True until the span is finished. */
  isActive(): boolean {
    return this.finishTime === null;
  }

  /**
   * Start a child span: same trace, this span as parent, the same sampling decision and service.
   *
   * @param name The child's name.
   * @param opts Its options (they win over the inherited ones).
   * @returns The started child.
   */
  startSpan(name: string, opts?: SpanOptions, ctx?: unknown): Span {
    const inherited: SpanOptions = {
      traceID: this.traceID,
      parentID: this.id,
      sampled: this.sampled,
      service: this.service ?? null,
    };
    if (this.#defaultTags !== undefined) inherited.defaultTags = this.#defaultTags;
    return new Span(this.#tracer, name, opts ? { ...inherited, ...opts } : inherited, ctx).start();
  }
}

/** The logs of a span that has none (most): shared, replaced by the first `log()`. */
const NO_LOGS: SpanLog[] = Object.freeze([]) as unknown as SpanLog[];

/** The span form of each service object, made once: every span of a service shares it. */
const SERVICES = new WeakMap<object, SpanService>();

function serviceOf(svc: string | SpanService): SpanService {
  if (typeof svc === "string") return { name: svc, fullName: svc };
  let s = SERVICES.get(svc);
  if (!s) {
    s = Object.freeze({ name: svc.name, version: svc.version, fullName: svc.fullName });
    SERVICES.set(svc, s);
  }
  return s;
}

/**
 * The trace fields of a new span with a parent span: the parent's trace, id and sampling
 * decision, under what `opts` gives itself.
 *
 * @param opts The options, possibly with `parentSpan`.
 * @returns The options without `parentSpan`.
 */
export function withParentSpan(opts: SpanOptions): SpanOptions {
  const parent = opts.parentSpan;
  if (!parent) return opts;
  const { parentSpan: _, ...rest } = opts;
  return {
    traceID: parent.traceID,
    parentID: parent.id,
    sampled: parent.sampled,
    ...rest,
  };
}
