/**
 * The Zipkin exporter: finished spans go to a Zipkin server's v2 HTTP JSON API
 * (`POST <baseURL>/api/v2/spans`), batched every `interval` seconds, in the payload Moleculer's
 * `ZipkinTraceExporter` sends (64-bit ids: the first 16 hex digits of Moleculer's).
 *
 * @module
 */

import type { Span } from "../span.ts";
import {
  errorToObject,
  type ExporterTracer,
  flattenTags,
  shortID,
  type TraceExporter,
} from "./exporter.ts";

/** Options of the Zipkin exporter (Moleculer's names and defaults). */
export interface ZipkinExporterOptions {
  /** The Zipkin server. @default {"http://localhost:9411"} */
  baseURL?: string;
  /** Seconds between uploads; 0 uploads only when the broker stops. @default {5} */
  interval?: number;
  /** Zipkin's `debug` and `shared` flags of every span. */
  payloadOptions?: { debug?: boolean; shared?: boolean };
  /** Tags added to every span. @default {null} */
  defaultTags?: Record<string, unknown> | null;
  /** HTTP headers of the upload. @default {{ "Content-Type": "application/json" }} */
  headers?: Record<string, string>;
}

/** A span in Zipkin's v2 JSON. */
export interface ZipkinSpan {
  /** The span name. */
  name: string;
  /** Always `SERVER`, as Moleculer's. */
  kind: string;
  /** 16 hex digits. */
  traceId: string | null;
  /** 16 hex digits. */
  id: string | null;
  /** 16 hex digits, or null for a root. */
  parentId: string | null;
  /** The service. */
  localEndpoint: { serviceName: string | null };
  /** The service. */
  remoteEndpoint: { serviceName: string | null };
  /** Error annotations. */
  annotations: Array<Record<string, unknown>>;
  /** Start in µs since the epoch. */
  timestamp: number | null;
  /** Duration in µs. */
  duration: number | null;
  /** Flattened tags, as strings. */
  tags: Record<string, unknown>;
  /** Zipkin's flag. */
  debug: boolean;
  /** Zipkin's flag. */
  shared: boolean;
}

const micros = (ms: number | null): number | null => ms !== null ? Math.round(ms * 1000) : null;

/** Uploads spans to Zipkin. */
export class ZipkinTraceExporter implements TraceExporter {
  /** The options, complete. */
  readonly opts: Required<ZipkinExporterOptions>;
  #tracer: ExporterTracer | undefined;
  #queue: Span[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #uploads = new Set<Promise<void>>();

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: ZipkinExporterOptions = {}) {
    this.opts = {
      baseURL: "http://localhost:9411",
      interval: 5,
      defaultTags: null,
      headers: { "Content-Type": "application/json" },
      ...opts,
      payloadOptions: { debug: false, shared: false, ...opts.payloadOptions },
    };
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

  /** Upload what is queued, wait for every upload, stop the timer. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
    await Promise.all(this.#uploads);
  }

  /**
   * A sampled span finished.
   *
   * @param span A finished span.
   */
  spanFinished(span: Span): void {
    this.#queue.push(span);
  }

  /** Upload the queued spans now. */
  flush(): void {
    const tracer = this.#tracer;
    if (this.#queue.length === 0 || !tracer) return;
    const data = this.#queue.map((s) => this.makePayload(s, tracer.errorFields));
    this.#queue = [];
    const upload = fetch(`${this.opts.baseURL}/api/v2/spans`, {
      method: "POST",
      body: JSON.stringify(data),
      headers: this.opts.headers,
    }).then(async (res) => {
      await res.body?.cancel();
      if (res.status >= 400) {
        tracer.logger.warn(
          `Unable to upload tracing spans to Zipkin. Status: ${res.status} ${res.statusText}`,
        );
      }
    }, (err: Error) => {
      tracer.logger.warn(`Unable to upload tracing spans to Zipkin: ${err.message}`);
    }).finally(() => this.#uploads.delete(upload));
    this.#uploads.add(upload);
  }

  /**
   * One span as Zipkin's v2 JSON, field for field Moleculer's.
   *
   * @param span The span.
   * @param errorFields The error fields kept.
   * @returns The payload.
   */
  makePayload(span: Span, errorFields: readonly string[]): ZipkinSpan {
    const serviceName = span.service ? span.service.fullName : null;
    const payload: ZipkinSpan = {
      name: span.name,
      kind: "SERVER",
      traceId: shortID(span.traceID),
      id: shortID(span.id),
      parentId: shortID(span.parentID),
      localEndpoint: { serviceName },
      remoteEndpoint: { serviceName },
      annotations: [],
      timestamp: micros(span.startTime),
      duration: micros(span.duration),
      tags: { service: serviceName, "span.type": span.type },
      debug: this.opts.payloadOptions.debug ?? false,
      shared: this.opts.payloadOptions.shared ?? false,
    };
    if (span.error) {
      payload.tags["error"] = typeof span.error === "object"
        ? (span.error as { message?: unknown }).message
        : "Unknown error";
      payload.annotations.push({
        value: "error",
        endpoint: { serviceName, ipv4: "", port: 0 },
        timestamp: micros(span.finishTime),
      });
    }
    Object.assign(
      payload.tags,
      flattenTags(this.opts.defaultTags, true) ?? {},
      flattenTags(span.tags, true),
      flattenTags(errorToObject(span.error, errorFields), true, "error") ?? {},
    );
    return payload;
  }
}
