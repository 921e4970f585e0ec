/**
 * How the REPL shows values, durations, numbers and errors.
 *
 * @module
 */

import type { Style } from "./style.ts";

/**
 * A value as the REPL prints a response or params (`Deno.inspect`, 4 levels deep, coloured
 * when the output is).
 *
 * @param value The value.
 * @param style The output's styles.
 * @returns The text.
 */
export function show(value: unknown, style: Style): string {
  return Deno.inspect(value, { depth: 4, colors: style.enabled, breakLength: 100 });
}

/**
 * A duration in a short human form: `850μs`, `12.3ms`, `1.52s`.
 *
 * @param ms Milliseconds.
 * @returns The text.
 */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms < 1) return `${Math.round(ms * 1000)}μs`;
  if (ms < 1000) return `${ms < 100 ? ms.toFixed(1) : Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/**
 * A number with thousands separators and `decimals` places.
 *
 * @param n The number.
 * @param decimals Places after the point.
 * @returns The text.
 */
export function count(n: number, decimals = 0): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/**
 * Print a failed call the way moleculer-repl does: `>> ERROR: …` and the error's data.
 *
 * @param err What was thrown.
 * @param style The output's styles.
 * @returns The lines.
 */
export function errorBlock(err: unknown, style: Style): string {
  const e = err as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    type?: unknown;
    data?: unknown;
    nodeID?: unknown;
  };
  const name = typeof e?.name === "string" ? e.name : "Error";
  const message = typeof e?.message === "string" ? e.message : String(err);
  const tags = [
    e?.code !== undefined && e.code !== null ? `code ${e.code}` : "",
    typeof e?.type === "string" && e.type !== "" ? `type ${e.type}` : "",
    typeof e?.nodeID === "string" && e.nodeID !== "" ? `node ${e.nodeID}` : "",
  ].filter(Boolean);
  const lines = [
    style.red(`>> ERROR: ${name}: ${message}${tags.length ? ` (${tags.join(", ")})` : ""}`),
  ];
  if (e?.data !== undefined && e.data !== null) lines.push(`Data: ${show(e.data, style)}`);
  return lines.join("\n");
}
