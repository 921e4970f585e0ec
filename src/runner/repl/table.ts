/**
 * Readable tables for the REPL: a header, box-drawing borders, right- or left-aligned columns
 * and separator lines between groups of rows (a node and its services, an action and its
 * endpoints). ANSI codes in cells take no width.
 *
 * @module
 */

import { type Style, visibleLength } from "./style.ts";

/** Options of {@linkcode renderTable}. */
export interface TableOptions {
  /** Indexes of the columns aligned to the right (counts, versions). */
  readonly right?: readonly number[];
  /** Row indexes (0 = the first row after the header) a separator line is drawn above. */
  readonly separators?: readonly number[];
}

/**
 * Render rows under a header.
 *
 * @param style The output's styles (borders are grey, the header bold).
 * @param header The column titles.
 * @param rows The cells, one array per row, as many as there are titles.
 * @param options Alignment and separators.
 * @returns The table, without a trailing newline.
 *
 * @example
 * ```ts
 * import { renderTable } from "./table.ts";
 * import { makeStyle } from "./style.ts";
 *
 * console.log(renderTable(makeStyle(false), ["Node ID", "CPU"], [["node-1", "3%"]]));
 * // ┌─────────┬─────┐
 * // │ Node ID │ CPU │
 * // ├─────────┼─────┤
 * // │ node-1  │ 3%  │
 * // └─────────┴─────┘
 * ```
 */
export function renderTable(
  style: Style,
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const right = new Set(options.right ?? []);
  const separators = new Set(options.separators ?? []);
  const widths = header.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? "")))
  );
  const border = (l: string, join: string, r: string) =>
    style.gray(l + widths.map((w) => "─".repeat(w + 2)).join(join) + r);
  const bar = style.gray("│");
  const line = (cells: readonly string[], bold = false) =>
    bar +
    widths.map((w, i) => {
      const cell = cells[i] ?? "";
      const pad = " ".repeat(w - visibleLength(cell));
      const text = bold ? style.bold(cell) : cell;
      return ` ${right.has(i) ? pad + text : text + pad} `;
    }).join(bar) +
    bar;
  const out = [border("┌", "┬", "┐"), line(header, true), border("├", "┼", "┤")];
  rows.forEach((row, i) => {
    if (i > 0 && separators.has(i)) out.push(border("├", "┼", "┤"));
    out.push(line(row));
  });
  out.push(border("└", "┴", "┘"));
  return out.join("\n");
}
