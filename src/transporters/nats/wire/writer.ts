/**
 * The outbound side of a NATS connection: one growable buffer that protocol lines and payloads
 * are written into, flushed once per microtask turn.
 *
 * - `PUB <subject> <size>\r\n<payload>\r\n` is written in place: the `PUB <subject> ` bytes are
 *   encoded once per subject and cached, the size is written as digits, the payload is copied in.
 * - At most one socket write is in flight; whatever is queued meanwhile goes out in the next
 *   write, all together (two buffers take turns: one on the wire, one filling).
 *
 * @example Write to a socket
 * ```ts ignore
 * import { Writer } from "./writer.ts";
 *
 * const conn = await Deno.connect({ port: 4222 });
 * const writer = new Writer(conn, (e) => console.error(e));
 * writer.pub("greet", new TextEncoder().encode("hello"));
 * writer.line("PING\r\n");
 * await writer.flushed();
 * ```
 *
 * @module
 */

/** Where the bytes go: a socket's `write`. */
export interface ByteSink {
  /** Write some of `p`; resolves with how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
}

const CR = 13;
const LF = 10;
/** First size of each buffer. */
const INITIAL = 64 * 1024;
/** A buffer grown past this (by a large message) is dropped once written. */
const KEEP = 1024 * 1024;
/** Cached `PUB <subject> ` headers; the cache restarts when full (subjects are few in practice). */
const MAX_CACHED_SUBJECTS = 4096;
const WHITESPACE = /\s/;

const encoder = new TextEncoder();

/**
 * Check a subject (or queue group) as nats.js does: not empty, no whitespace.
 *
 * @param subject The subject.
 * @throws {TypeError} `Invalid subject: "<subject>"`.
 */
export function checkSubject(subject: string): void {
  if (typeof subject !== "string" || subject.length === 0 || WHITESPACE.test(subject)) {
    throw new TypeError(`Invalid subject: ${JSON.stringify(subject)}`);
  }
}

/** The outbound buffer of one connection. */
export class Writer {
  readonly #sink: ByteSink;
  readonly #onError: (error: unknown) => void;
  /** The buffer being filled, and its length. */
  #out: Uint8Array = new Uint8Array(INITIAL);
  #length = 0;
  /** The other buffer: on the wire while a write is in flight. */
  #spare: Uint8Array = new Uint8Array(INITIAL);
  #scheduled = false;
  #writing = false;
  #closed = false;
  #idle: (() => void)[] = [];
  readonly #headers = new Map<string, Uint8Array>();
  readonly #flushTask = (): void => {
    this.#scheduled = false;
    if (!this.#writing) void this.#drain();
  };

  /**
   * Make the writer of one connection.
   *
   * @param sink The socket.
   * @param onError Called once if a write fails; the writer then drops what it holds and takes
   *   no more.
   */
  constructor(sink: ByteSink, onError: (error: unknown) => void) {
    this.#sink = sink;
    this.#onError = onError;
  }

  /** Bytes queued and not yet handed to the socket. */
  get pending(): number {
    return this.#length;
  }

  /**
   * Queue a `PUB`.
   *
   * @param subject The subject (checked the first time it is seen).
   * @param data The payload; copied, so the caller may reuse it.
   * @throws {TypeError} when the subject is malformed.
   */
  pub(subject: string, data: Uint8Array): void {
    if (this.#closed) return;
    let head = this.#headers.get(subject);
    if (head === undefined) head = this.#header(subject);
    const size = data.length;
    // Header, up to 10 digits of size, CRLF, payload, CRLF.
    this.#reserve(head.length + size + 14);
    const out = this.#out;
    let at = this.#length;
    out.set(head, at);
    at += head.length;
    at = writeDigits(out, at, size);
    out[at++] = CR;
    out[at++] = LF;
    out.set(data, at);
    at += size;
    out[at++] = CR;
    out[at++] = LF;
    this.#length = at;
    this.#schedule();
  }

  /**
   * Queue a control line (`SUB`, `UNSUB`, `PING`, `PONG`, `CONNECT`), CRLF included.
   *
   * @param text The line.
   */
  line(text: string): void {
    if (this.#closed) return;
    this.#reserve(text.length * 3);
    const { written } = encoder.encodeInto(text, this.#out.subarray(this.#length));
    this.#length += written;
    this.#schedule();
  }

  /**
   * Resolves once everything queued so far has been handed to the socket (or the writer closed).
   *
   * @returns The promise.
   */
  flushed(): Promise<void> {
    if (this.#closed || (this.#length === 0 && !this.#writing)) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Take no more bytes and drop what is queued (the connection is going away). */
  close(): void {
    this.#closed = true;
    this.#length = 0;
    this.#wakeIdle();
  }

  #header(subject: string): Uint8Array {
    checkSubject(subject);
    const head = encoder.encode(`PUB ${subject} `);
    if (this.#headers.size >= MAX_CACHED_SUBJECTS) this.#headers.clear();
    this.#headers.set(subject, head);
    return head;
  }

  /** Make room for `extra` more bytes in the buffer being filled. */
  #reserve(extra: number): void {
    const need = this.#length + extra;
    if (need <= this.#out.length) return;
    let size = this.#out.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#out.subarray(0, this.#length));
    this.#out = grown;
  }

  #schedule(): void {
    // A write in flight picks up what is queued when it completes.
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    queueMicrotask(this.#flushTask);
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#length > 0 && !this.#closed) {
        const buf = this.#out;
        const length = this.#length;
        this.#out = this.#spare;
        this.#length = 0;
        let at = 0;
        while (at < length) at += await this.#sink.write(buf.subarray(at, length));
        this.#spare = buf.length > KEEP ? new Uint8Array(INITIAL) : buf;
      }
    } catch (error) {
      if (!this.#closed) {
        this.close();
        this.#onError(error);
      }
    } finally {
      this.#writing = false;
      if (this.#length === 0) this.#wakeIdle();
    }
  }

  #wakeIdle(): void {
    const idle = this.#idle;
    if (idle.length === 0) return;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }
}

/** Write `value` (a non-negative integer) as decimal digits at `at`; returns the end. */
function writeDigits(out: Uint8Array, at: number, value: number): number {
  if (value < 10) {
    out[at] = 48 + value;
    return at + 1;
  }
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  let i = at + digits;
  for (let v = value; i > at; v = Math.floor(v / 10)) out[--i] = 48 + (v % 10);
  return at + digits;
}
