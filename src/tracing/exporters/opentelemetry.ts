/**
 * The OpenTelemetry exporter: every sampled span is also made as a span of the OpenTelemetry API
 * (`npm:@opentelemetry/api`, loaded by `import()` when this exporter is configured). With Deno's
 * built-in OpenTelemetry (`OTEL_DENO=true`) those spans are shipped over OTLP with no SDK, next
 * to Deno's own `Deno.serve` and `fetch` spans; any other registered tracer provider works too.
 *
 * Parents: a span whose parent runs on this node is that span's child; a span whose request
 * carried a `traceparent` header (a Denolecular caller with this exporter) is the child of the
 * caller's span; a span whose parent is a Moleculer span without one gets Moleculer's 64-bit ids
 * (what Moleculer's Zipkin and Jaeger exporters write) as its remote parent; a root span is a
 * child of the active OpenTelemetry context (e.g. the `Deno.serve` request being handled).
 *
 * @module
 */

import type * as OTel from "@opentelemetry/api";
import type { Span } from "../span.ts";
import { formatTraceparent, parseTraceparent } from "../traceparent.ts";
import {
  type ExporterTracer,
  flattenTags,
  shortID,
  type TraceContextSource,
  type TraceExporter,
} from "./exporter.ts";

/** Options of the OpenTelemetry exporter. */
export interface OpenTelemetryExporterOptions {
  /** The instrumentation scope's name. @default {"denolecular"} */
  tracerName?: string;
  /** The instrumentation scope's version. @default {undefined} */
  tracerVersion?: string;
  /** The OpenTelemetry API module to use; `npm:@opentelemetry/api` when omitted. */
  api?: typeof OTel;
}

const HEX16 = /^[0-9a-f]{16}$/;

/** An attribute value OpenTelemetry accepts. */
function attribute(value: unknown): OTel.AttributeValue | undefined {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return value;
  }
  if (value === null || value === undefined) return undefined;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function attributes(tags: Record<string, unknown>): OTel.Attributes {
  const out: OTel.Attributes = {};
  for (const [k, v] of Object.entries(flattenTags(tags) ?? {})) {
    const a = attribute(v);
    if (a !== undefined) out[k] = a;
  }
  return out;
}

/** Makes every sampled span an OpenTelemetry span too. */
export class OpenTelemetryTraceExporter implements TraceExporter, TraceContextSource {
  /** The options. */
  readonly opts: OpenTelemetryExporterOptions;
  #api: typeof OTel | undefined;
  #tracer: OTel.Tracer | undefined;
  #errorFields: readonly string[] = [];
  /** The OpenTelemetry spans of the spans still running, by span id. */
  readonly #live = new Map<string, OTel.Span>();

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: OpenTelemetryExporterOptions = {}) {
    this.opts = opts;
  }

  /**
   * Load the API and get its tracer.
   *
   * @param tracer The tracer feeding this exporter.
   */
  async init(tracer: ExporterTracer): Promise<void> {
    this.#api = this.opts.api ?? await import("@opentelemetry/api");
    this.#tracer = this.#api.trace.getTracer(
      this.opts.tracerName ?? "denolecular",
      this.opts.tracerVersion,
    );
    this.#errorFields = tracer.errorFields;
  }

  /** End the spans still running (the broker stops). */
  stop(): void {
    for (const s of this.#live.values()) s.end();
    this.#live.clear();
  }

  /**
   * A sampled span started.
   *
   * @param span A started span.
   */
  spanStarted(span: Span): void {
    const api = this.#api, tracer = this.#tracer;
    if (!api || !tracer) return;
    const kind = span.type === "action"
      ? api.SpanKind.SERVER
      : span.type === "event"
      ? api.SpanKind.CONSUMER
      : api.SpanKind.INTERNAL;
    const o = tracer.startSpan(span.name, {
      kind,
      startTime: span.startTime ?? Date.now(),
      attributes: {
        "moleculer.span.id": span.id,
        "moleculer.trace.id": span.traceID,
        ...(span.service ? { "service.fullName": span.service.fullName } : {}),
      },
    }, this.#parentOf(span, api));
    this.#live.set(span.id, o);
  }

  /**
   * A sampled span finished.
   *
   * @param span A finished span.
   */
  spanFinished(span: Span): void {
    const o = this.#live.get(span.id);
    if (!o || !this.#api) return;
    this.#live.delete(span.id);
    o.setAttributes(attributes(span.tags));
    if (span.error) {
      const e = span.error as Record<string, unknown>;
      const message = typeof e === "object" && typeof e.message === "string" ? e.message : "Error";
      o.setStatus({ code: this.#api.SpanStatusCode.ERROR, message });
      if (typeof e === "object") {
        const fields: OTel.Attributes = {};
        for (const f of this.#errorFields) {
          const a = attribute(e[f]);
          if (a !== undefined) fields[`exception.${f}`] = a;
        }
        o.addEvent("exception", {
          "exception.type": String(e.name ?? "Error"),
          "exception.message": message,
          ...fields,
        });
      }
    }
    o.end(span.finishTime ?? undefined);
  }

  /**
   * The `traceparent` of a running span of this node.
   *
   * @param spanID The span id.
   * @returns The header value, or undefined when the span is not running here.
   */
  traceparent(spanID: string): string | undefined {
    const o = this.#live.get(spanID);
    if (!o) return undefined;
    const sc = o.spanContext();
    return formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags });
  }

  #parentOf(span: Span, api: typeof OTel): OTel.Context {
    if (!span.parentID) return api.context.active();
    const local = this.#live.get(span.parentID);
    if (local) return api.trace.setSpan(api.ROOT_CONTEXT, local);
    const ctx = span.ctx as { headers?: Record<string, unknown> } | undefined;
    const tp = parseTraceparent(ctx?.headers?.traceparent);
    if (tp) return api.trace.setSpanContext(api.ROOT_CONTEXT, { ...tp, isRemote: true });
    const traceId = shortID(span.traceID), spanId = shortID(span.parentID);
    if (traceId && spanId && HEX16.test(traceId) && HEX16.test(spanId)) {
      return api.trace.setSpanContext(api.ROOT_CONTEXT, {
        traceId: "0".repeat(16) + traceId,
        spanId,
        traceFlags: api.TraceFlags.SAMPLED,
        isRemote: true,
      });
    }
    return api.context.active();
  }
}
