/**
 * The Console exporter: when a trace's root span finishes, its span tree is printed as a table
 * with a time gauge per span, as Moleculer's `ConsoleTraceExporter` draws it (`*` from the cache,
 * `»` a remote call, `×` an error).
 *
 * @module
 */

import type { Span } from "../span.ts";
import type { TraceExporter } from "./exporter.ts";

/** Options of the Console exporter. */
export interface ConsoleExporterOptions {
  /** Where lines go. @default {console.log} */
  logger?: ((line: string) => void) | null;
  /** Table width in characters. @default {100} */
  width?: number;
  /** Gauge width in characters. @default {40} */
  gaugeWidth?: number;
  /** Accepted for Moleculer's option set; lines are never colored. @default {true} */
  colors?: boolean;
}

interface Item {
  readonly span: Span;
  readonly children: string[];
}

/** Prints the span tree of each finished trace. */
export class ConsoleTraceExporter implements TraceExporter {
  /** The options, complete. */
  readonly opts: Required<ConsoleExporterOptions>;
  #spans = new Map<string, Item>();

  /**
   * Make it.
   *
   * @param opts The options.
   */
  constructor(opts: ConsoleExporterOptions = {}) {
    this.opts = { logger: null, width: 100, gaugeWidth: 40, colors: true, ...opts };
  }

  /** Forget the spans of unfinished traces. */
  stop(): void {
    this.#spans.clear();
  }

  /**
   * A sampled span started.
   *
   * @param span A started span.
   */
  spanStarted(span: Span): void {
    this.#spans.set(span.id, { span, children: [] });
    if (span.parentID) this.#spans.get(span.parentID)?.children.push(span.id);
  }

  /**
   * A sampled span finished.
   *
   * @param span A finished span.
   */
  spanFinished(span: Span): void {
    if (span.parentID && this.#spans.has(span.parentID)) return;
    for (const line of this.render(span.id)) this.#print(line);
    this.#remove(span.id);
  }

  /**
   * The table of the span `id` and its descendants.
   *
   * @param id The root's id.
   * @returns The lines.
   */
  render(id: string): string[] {
    const root = this.#spans.get(id);
    if (!root) return [];
    const w = this.opts.width;
    const rows: Array<{ item: Item; depth: number }> = [];
    const walk = (item: Item, depth: number) => {
      rows.push({ item, depth });
      for (const c of item.children) {
        const child = this.#spans.get(c);
        if (child) walk(child, depth + 1);
      }
    };
    walk(root, 0);
    const start = root.span.startTime ?? 0;
    const total = Math.max(root.span.duration ?? 0, 0.001);
    const lines = ["┌" + "─".repeat(w - 2) + "┐"];
    const head = `ID: ${root.span.id}`;
    const depthInfo = `Depth: ${Math.max(...rows.map((r) => r.depth)) + 1} Total: ${rows.length}`;
    lines.push(this.#line(
      head + " ".repeat(Math.max(w - 4 - head.length - depthInfo.length, 1)) +
        depthInfo,
    ));
    lines.push("├" + "─".repeat(w - 2) + "┤");
    const gw = this.opts.gaugeWidth;
    for (const { item, depth } of rows) {
      const s = item.span;
      const from = ((s.startTime ?? start) - start) / total * 100;
      const to = from + (s.duration ?? 0) / total * 100;
      const dur = s.duration === null ? "?" : `${s.duration.toFixed(2)}ms`;
      const caption = "  ".repeat(depth) + this.#caption(s);
      const space = w - 4 - (gw + 2) - dur.length - 2;
      lines.push(this.#line(`${this.#fit(caption, space)} ${dur} ${this.#gauge(from, to)}`));
    }
    lines.push("└" + "─".repeat(w - 2) + "┘");
    return lines;
  }

  #caption(span: Span): string {
    let c = span.name;
    if (span.tags.fromCache) c += " *";
    if (span.tags.remoteCall) c += " »";
    if (span.error) c += " ×";
    return c;
  }

  #fit(text: string, space: number): string {
    if (text.length <= space) return text + " ".repeat(space - text.length);
    return text.slice(0, Math.max(space - 3, 0)) + ".".repeat(Math.min(3, space));
  }

  #gauge(from: number, to: number): string {
    const gw = this.opts.gaugeWidth;
    const p1 = Math.min(Math.floor(gw * from / 100), gw - 1);
    // A child may end a hair after its root (clock reads): the gauge never outgrows its width.
    const p2 = Math.min(Math.max(Math.floor(gw * to / 100) - p1, 1), gw - p1);
    const p3 = Math.max(gw - (p1 + p2), 0);
    return "[" + ".".repeat(p1) + "■".repeat(p2) + ".".repeat(p3) + "]";
  }

  #line(text: string): string {
    return "│ " + this.#fit(text, this.opts.width - 4) + " │";
  }

  #print(line: string): void {
    if (this.opts.logger) this.opts.logger(line);
    else console.log(line);
  }

  #remove(id: string): void {
    const item = this.#spans.get(id);
    if (!item) return;
    for (const c of item.children) this.#remove(c);
    this.#spans.delete(id);
  }
}
