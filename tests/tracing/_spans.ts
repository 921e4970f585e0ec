/**
 * Collecting spans in tests: a trace exporter that keeps every finished span, and the checks of a
 * trace's parent links.
 *
 * @module
 */

import type { Span, TraceExporter } from "../../mod.ts";

/** Keeps the spans it is given, in the order they finish. */
export class CollectingExporter implements TraceExporter {
  /** Started spans. */
  readonly started: Span[] = [];
  /** Finished spans. */
  readonly finished: Span[] = [];
  /** Keep a started span. */
  spanStarted(span: Span): void {
    this.started.push(span);
  }
  /** Keep a finished span. */
  spanFinished(span: Span): void {
    this.finished.push(span);
  }
  /** The finished span named `name`; fails when there is none. */
  byName(name: string): Span {
    const s = this.finished.find((x) => x.name === name);
    if (!s) {
      throw new Error(
        `no span '${name}' in [${this.finished.map((x) => x.name).join(", ")}]`,
      );
    }
    return s;
  }
}
