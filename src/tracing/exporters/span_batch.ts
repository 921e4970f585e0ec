/**
 * Spans waiting for a batch (the Event exporter's `interval`). At rate 1 a busy node finishes
 * 10⁵–10⁶ spans a second, and every one of them outlives several young-generation collections:
 * what the batch keeps alive is what the garbage collector copies, promotes and marks, and that
 * was most of the cost of a traced call. So a finished span is kept as its field values, not as
 * the `Span`: its four times in a `Float64Array` (no heap number per time, nothing to trace), its
 * other fields as slots of one array; the span object itself dies young.
 *
 * @module
 */

import { Span } from "../span.ts";

/** A finished span's fields as a batch kept them: the `Span`'s own fields, in their order. */
export type SpanRecord =
  & { service?: Span["service"] | undefined }
  & Pick<
    Span,
    | "name"
    | "type"
    | "id"
    | "traceID"
    | "parentID"
    | "priority"
    | "sampled"
    | "startTime"
    | "startTicks"
    | "finishTime"
    | "duration"
    | "error"
    | "logs"
    | "tags"
  >;

/** Slots of one finished span in the reference array. */
const REFS = 11;
/** Times of one finished span in the times array. */
const TIMES = 4;

/** A time as the times array holds it: `null` (a span never started) as NaN. */
const toTime = (t: number | null): number => t ?? NaN;
/** A time read back: NaN is the `null` it stood for (JSON sends both as `null`). */
const fromTime = (t: number): number | null => Number.isNaN(t) ? null : t;

/**
 * Spans per chunk. A chunk's slot array is allocated at its full size, ~180 KB: past V8's
 * largest regular object (128 KB), so it lives in the large-object space and young-generation
 * collections never copy it; and a growing batch never copies one huge array.
 */
const CHUNK = 4096;

/** A run of batch entries: finished spans as `REFS` slots and `TIMES` times, other spans as one slot. */
interface Chunk {
  /** The slots, `used` of them filled. */
  readonly refs: unknown[];
  used: number;
  readonly times: Float64Array;
  /** Finished spans in it (their times fill `times` from the start). */
  finished: number;
}

const newChunk = (): Chunk => ({
  refs: new Array(REFS * CHUNK),
  used: 0,
  times: new Float64Array(TIMES * CHUNK),
  finished: 0,
});

/**
 * Spans in the order they were added: finished spans as their values (read once, when added),
 * other spans (started ones, for `sendStartSpan`) as the `Span`, read when the batch is taken.
 */
export class SpanBatch {
  #chunks: Chunk[] = [];
  #last: Chunk | null = null;
  #length = 0;
  /** The first chunk of the last batch taken, emptied: batches sent often reuse one chunk. */
  #spare: Chunk | null = null;

  /** Spans in the batch. */
  get length(): number {
    return this.#length;
  }

  /** The chunk the next entry goes to. */
  #chunk(): Chunk {
    const last = this.#last;
    if (last !== null && last.used <= last.refs.length - REFS) return last;
    const c = this.#spare ?? newChunk();
    this.#spare = null;
    this.#chunks.push(c);
    return this.#last = c;
  }

  /**
   * Add a finished span: its values now (later changes to its fields are not seen; its tags
   * object is kept, as it is).
   *
   * @param span A finished span.
   */
  addFinished(span: Span): void {
    const c = this.#chunk();
    const times = c.times, t = c.finished * TIMES;
    times[t] = toTime(span.startTime);
    times[t + 1] = toTime(span.startTicks);
    times[t + 2] = toTime(span.finishTime);
    times[t + 3] = toTime(span.duration);
    const refs = c.refs;
    let i = c.used;
    refs[i++] = span.name;
    refs[i++] = span.type;
    refs[i++] = span.id;
    refs[i++] = span.traceID;
    refs[i++] = span.parentID;
    refs[i++] = span.service;
    refs[i++] = span.priority;
    refs[i++] = span.sampled;
    refs[i++] = span.error;
    refs[i++] = span.logs;
    refs[i++] = span.tags;
    c.used = i;
    c.finished++;
    this.#length++;
  }

  /**
   * Add a span as it is: it is read when the batch is taken.
   *
   * @param span A span.
   */
  addSpan(span: Span): void {
    const c = this.#chunk();
    c.refs[c.used++] = span;
    this.#length++;
  }

  /**
   * Take every span out, in the order they were added.
   *
   * @param record Turns a finished span's values into what is sent.
   * @param live Turns a span added as it is into what is sent.
   * @returns What they turned into.
   */
  take<T>(record: (r: SpanRecord) => T, live: (span: Span) => T): T[] {
    const out: T[] = new Array(this.#length);
    let n = 0;
    for (const { refs, used, times } of this.#chunks) {
      for (let i = 0, t = 0; i < used;) {
        const first = refs[i];
        if (first instanceof Span) {
          out[n++] = live(first);
          i++;
          continue;
        }
        out[n++] = record({
          name: first as string,
          type: refs[i + 1] as string,
          id: refs[i + 2] as string,
          traceID: refs[i + 3] as string,
          parentID: refs[i + 4] as string | null,
          service: refs[i + 5] as Span["service"] | undefined,
          priority: refs[i + 6] as number,
          sampled: refs[i + 7] as boolean,
          startTime: fromTime(times[t]!),
          startTicks: fromTime(times[t + 1]!),
          finishTime: fromTime(times[t + 2]!),
          duration: fromTime(times[t + 3]!),
          error: refs[i + 8],
          logs: refs[i + 9] as Span["logs"],
          tags: refs[i + 10] as Record<string, unknown>,
        });
        i += REFS;
        t += TIMES;
      }
    }
    const first = this.#chunks[0];
    if (first !== undefined) {
      // Emptied, it holds nothing of the batch sent: the spans' tags die with their event.
      first.refs.fill(undefined, 0, first.used);
      first.used = 0;
      first.finished = 0;
      this.#spare = first;
    }
    this.#chunks = [];
    this.#last = null;
    this.#length = 0;
    return out;
  }
}
