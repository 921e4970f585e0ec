/**
 * The trace exporter contract, and the helpers Moleculer's exporters share (flattened tags, error
 * fields).
 *
 * @module
 */

import type { Logger } from "../../logging.ts";
import type { Span } from "../span.ts";

/** What an exporter may use of its broker, through the tracer. */
export interface TracerHost {
  /** This node's id. */
  readonly nodeID: string;
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

/** What an exporter sees of the tracer that feeds it. */
export interface ExporterTracer {
  /** The broker side. */
  readonly host: TracerHost;
  /** The tracer's logger. */
  readonly logger: Logger;
  /** The error fields kept in spans (`tracing.errorFields`). */
  readonly errorFields: readonly string[];
}

/**
 * A trace exporter: told of every sampled span that starts and finishes. Moleculer's exporters
 * have the same four methods.
 */
export interface TraceExporter {
  /** Called once, when the broker starts. */
  init?(tracer: ExporterTracer): void | Promise<void>;
  /** Called when the broker stops: flush what is queued, end timers. */
  stop?(): void | Promise<void>;
  /** A sampled span started. */
  spanStarted?(span: Span): void;
  /** A sampled span finished. */
  spanFinished?(span: Span): void;
}

/**
 * A W3C trace context for a span this node started, for exporters that join another tracing
 * system (OpenTelemetry): `traceparent` headers travel with requests in protocol 5.
 */
export interface TraceContextSource {
  /**
   * The `traceparent` of the span `spanID` of this node, if the exporter knows it.
   *
   * @param spanID A span id.
   */
  traceparent(spanID: string): string | undefined;
}

/**
 * Tags flattened into dotted keys, as Moleculer's exporters send them: `{ a: { b: 1 } }` becomes
 * `{ "a.b": 1 }`; `undefined` values are left out.
 *
 * @param obj The tags.
 * @param toString Turn every value into a string (Zipkin wants strings).
 * @param path The prefix of every key.
 * @returns The flat tags, or null for no object.
 */
export function flattenTags(
  obj: Record<string, unknown> | null | undefined,
  toString = false,
  path = "",
): Record<string, unknown> | null {
  if (!obj) return null;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    const key = path ? `${path}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      Object.assign(out, flattenTags(v as Record<string, unknown>, toString, key));
    } else if (v !== undefined) {
      out[key] = toString ? String(v) : v;
    }
  }
  return out;
}

/**
 * The fields of an error kept in spans (`tracing.errorFields`).
 *
 * @param err The span's error.
 * @param fields The fields to keep.
 * @returns The picked fields, or null when `err` is not an object.
 */
export function errorToObject(
  err: unknown,
  fields: readonly string[],
): Record<string, unknown> | null {
  if (err === null || typeof err !== "object") return null;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = (err as Record<string, unknown>)[f];
    if (v !== undefined) out[f] = v;
  }
  return out;
}

/**
 * Moleculer's id conversion for 64-bit-id backends (Zipkin, Jaeger, Datadog): dashes dropped,
 * the first 16 hex digits kept.
 *
 * @param id A span or trace id.
 * @returns The 16-digit id, or null.
 */
export function shortID(id: string | null | undefined): string | null {
  return id ? id.replace(/-/g, "").substring(0, 16) : null;
}
