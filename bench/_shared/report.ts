/**
 * Figures and tables of the bench orchestrators (bench/compare.ts, bench/many_nodes.ts): medians
 * that skip missing figures, ratios, and Markdown tables as docs/BENCHMARKS.md shows them.
 *
 * @module
 */

/**
 * Median of the figures that are not NaN.
 *
 * @param values The figures.
 * @returns The median, or NaN when there is none.
 */
export function median(values: number[]): number {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * `a / b`, NaN when a figure is missing.
 *
 * @param a Numerator.
 * @param b Denominator.
 * @returns The ratio.
 */
export const ratio = (a: number | undefined, b: number | undefined): number =>
  a === undefined || b === undefined || !b ? NaN : a / b;

/**
 * A ratio as `1.23×`, `—` when missing.
 *
 * @param n The ratio.
 * @returns Its text.
 */
export const fmtRatio = (n: number): string => Number.isNaN(n) ? "—" : `${n.toFixed(2)}×`;

/**
 * A Markdown table, the first column left-aligned, the others right-aligned.
 *
 * @param rows The header row, then the rows.
 * @returns The table.
 */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    "| " + r.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join(" | ") +
    " |";
  const sep = "|" +
    widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|";
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join("\n");
}
