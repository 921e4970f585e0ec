/**
 * W3C Trace Context `traceparent` values (`00-<trace id>-<span id>-<flags>`), which carry an
 * OpenTelemetry span across a request in protocol 5's headers.
 *
 * @module
 */

/** The parts of a `traceparent`. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  /** The trace flags (bit 0: sampled). */
  readonly traceFlags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Read a `traceparent` header value.
 *
 * @param value The header (untrusted).
 * @returns Its parts, or null when it is not a valid version-00 (or later) value.
 *
 * @example
 * ```ts
 * import { formatTraceparent, parseTraceparent } from "./traceparent.ts";
 *
 * const tp = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * console.log(tp?.spanId, formatTraceparent(tp!).endsWith("-01")); // 00f067aa0ba902b7 true
 * ```
 */
export function parseTraceparent(value: unknown): TraceParent | null {
  if (typeof value !== "string" || value.length > 512) return null;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return null;
  return { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16) };
}

/**
 * Write a `traceparent` header value (version 00).
 *
 * @param tp The parts.
 * @returns The value.
 */
export function formatTraceparent(tp: TraceParent): string {
  return `00-${tp.traceId}-${tp.spanId}-${(tp.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}
