/**
 * An in-place parser of what a NATS server sends (`INFO`, `MSG`, `PING`, `PONG`, `+OK`, `-ERR`)
 * over the chunks a socket reads.
 *
 * It works on the bytes where they were read: a `MSG` line's sid and size are read as integers
 * straight from the bytes (the subject is not decoded: the subscription is found by its sid, and
 * the reply-to is not used), and the payload is handed over as a view of the read chunk. Bytes
 * are copied only when a control line or a payload spans two reads.
 *
 * @example Feed it chunks
 * ```ts
 * import { Parser } from "./parser.ts";
 *
 * const got: string[] = [];
 * const parser = new Parser({
 *   msg: (sid, payload) => got.push(`${sid}:${new TextDecoder().decode(payload)}`),
 *   ping: () => got.push("PING"),
 *   pong: () => {},
 *   info: () => {},
 *   err: (text) => got.push(`-ERR ${text}`),
 * });
 * const bytes = new TextEncoder().encode("PING\r\nMSG a.b 7 5\r\nhello\r\n");
 * parser.feed(bytes.subarray(0, 15));
 * parser.feed(bytes.subarray(15));
 * // got: ["PING", "7:hello"]
 * ```
 *
 * @module
 */

import type { ServerInfoFields } from "../socket.ts";

/** What the parser reports, in the order the server sent it. */
export interface ParserEvents {
  /**
   * A message for subscription `sid`. `payload` is a view of the read buffer, which is never
   * overwritten, so it may be kept.
   */
  msg(sid: number, payload: Uint8Array): void;
  /** The server pings: answer `PONG`. */
  ping(): void;
  /** The server answers a ping. */
  pong(): void;
  /** The server's INFO (first, and again when the cluster changes). */
  info(info: ServerInfoFields): void;
  /** `-ERR`, its text without the quotes, e.g. `Authorization Violation`. */
  err(text: string): void;
}

/** The server sent something that is not the NATS protocol. */
export class ProtocolError extends Error {
  /**
   * Describe the malformed input.
   *
   * @param message What was wrong.
   */
  constructor(message: string) {
    super(`NATS protocol error: ${message}`);
    this.name = "ProtocolError";
  }
}

const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;
/** Longest control line kept across reads (an INFO listing a large cluster fits). */
const MAX_LINE = 256 * 1024;
/** Largest payload accepted: nats-server's own ceiling for max_payload. */
const MAX_SIZE = 64 * 1024 * 1024;

const decoder = new TextDecoder();

function isSpace(b: number | undefined): boolean {
  return b === SPACE || b === TAB;
}

function excerpt(buf: Uint8Array, start: number, end: number): string {
  const text = decoder.decode(buf.subarray(start, Math.min(end, start + 40)));
  return JSON.stringify(text);
}

/**
 * The parser of one connection: feed it every chunk read, in order; it calls its
 * {@linkcode ParserEvents} synchronously and throws a {@linkcode ProtocolError} on malformed
 * input (the connection must then be dropped: the stream can no longer be followed).
 */
export class Parser {
  readonly #events: ParserEvents;
  /** A control line that began in an earlier chunk. */
  #line: Uint8Array = new Uint8Array(0);
  #lineLength = 0;
  /** A payload that began in an earlier chunk, being filled. */
  #payload: Uint8Array | undefined;
  #payloadFilled = 0;
  #payloadSid = 0;
  /** Bytes of a payload's trailing CRLF still to come (2, 1 or 0). */
  #trailer = 0;

  /**
   * Make a parser for one connection's stream.
   *
   * @param events Where parsed operations go.
   */
  constructor(events: ParserEvents) {
    this.#events = events;
  }

  /**
   * Parse the next chunk of the stream.
   *
   * @param chunk The bytes read; views of it are handed to `msg`, so it must not be reused.
   * @throws {ProtocolError} on malformed input.
   */
  feed(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    if (this.#payload !== undefined) {
      i = this.#fillPayload(chunk);
      if (i === n) return;
    }
    if (this.#trailer > 0) {
      i = this.#skipTrailer(chunk, i);
      if (i === n) return;
    }
    if (this.#lineLength > 0) {
      const lf = chunk.indexOf(LF, i);
      if (lf === -1) {
        this.#keepLine(chunk, i, n);
        return;
      }
      this.#keepLine(chunk, i, lf + 1);
      const line = this.#line;
      const end = this.#lineLength - 1;
      this.#lineLength = 0;
      i = this.#operation(line, 0, end, chunk, lf + 1);
    }
    while (i < n) {
      const lf = chunk.indexOf(LF, i);
      if (lf === -1) {
        this.#keepLine(chunk, i, n);
        return;
      }
      i = this.#operation(chunk, i, lf, chunk, lf + 1);
    }
  }

  /** Copy the start of a control line that the next read completes. */
  #keepLine(chunk: Uint8Array, from: number, to: number): void {
    const need = this.#lineLength + to - from;
    if (need > MAX_LINE) throw new ProtocolError(`a control line longer than ${MAX_LINE} bytes`);
    if (need > this.#line.length) {
      const grown = new Uint8Array(Math.max(need, this.#line.length * 2, 256));
      grown.set(this.#line.subarray(0, this.#lineLength));
      this.#line = grown;
    }
    this.#line.set(chunk.subarray(from, to), this.#lineLength);
    this.#lineLength = need;
  }

  /**
   * Handle the control line `buf[start, lf)` (`lf` is its LF); a MSG's payload follows in
   * `data` at `at`.
   *
   * @returns Where parsing goes on in `data`.
   */
  #operation(buf: Uint8Array, start: number, lf: number, data: Uint8Array, at: number): number {
    const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
    // Operation names are case-insensitive; `| 0x20` lower-cases ASCII letters.
    const op = buf[start]! | 0x20;
    if (
      op === 0x6d /* m */ && end - start > 4 && (buf[start + 1]! | 0x20) === 0x73 &&
      (buf[start + 2]! | 0x20) === 0x67 && isSpace(buf[start + 3])
    ) {
      return this.#msg(buf, start, end, data, at);
    }
    if (op === 0x70 /* p */ && end - start === 4) {
      const second = buf[start + 1]! | 0x20;
      if (second === 0x69 /* i */) {
        this.#events.ping();
        return at;
      }
      if (second === 0x6f /* o */) {
        this.#events.pong();
        return at;
      }
    }
    if (op === 0x2b /* + */) return at; // +OK (verbose mode only)
    if (op === 0x2d /* - */ && end - start >= 4) {
      let text = decoder.decode(buf.subarray(start + 4, end)).trim();
      if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) {
        text = text.slice(1, -1);
      }
      this.#events.err(text);
      return at;
    }
    if (op === 0x69 /* i */ && end - start > 5 && isSpace(buf[start + 4])) {
      let info: unknown;
      try {
        info = JSON.parse(decoder.decode(buf.subarray(start + 5, end)));
      } catch {
        throw new ProtocolError(`INFO is not JSON: ${excerpt(buf, start, end)}`);
      }
      if (info === null || typeof info !== "object") {
        throw new ProtocolError(`INFO is not an object: ${excerpt(buf, start, end)}`);
      }
      this.#events.info(info as ServerInfoFields);
      return at;
    }
    if (end === start) return at; // a stray empty line
    throw new ProtocolError(`unexpected ${excerpt(buf, start, end)}`);
  }

  /** `MSG <subject> <sid> [reply-to] <size>`, then the payload in `data` at `at`. */
  #msg(buf: Uint8Array, start: number, end: number, data: Uint8Array, at: number): number {
    let p = start + 4;
    while (p < end && isSpace(buf[p])) p++;
    while (p < end && !isSpace(buf[p])) p++; // the subject
    while (p < end && isSpace(buf[p])) p++;
    let sid = 0;
    const sidStart = p;
    for (let b = buf[p]!; p < end && b >= 48 && b <= 57; b = buf[++p]!) sid = sid * 10 + b - 48;
    if (p === sidStart || p === end || !isSpace(buf[p])) {
      throw new ProtocolError(`bad MSG arguments ${excerpt(buf, start, end)}`);
    }
    // The size is the last argument (a reply-to may come between).
    let q = end;
    let size = 0;
    let scale = 1;
    for (let b = buf[q - 1]!; q > p && b >= 48 && b <= 57; b = buf[--q - 1]!) {
      size += (b - 48) * scale;
      scale *= 10;
    }
    if (q === end || !isSpace(buf[q - 1]) || size > MAX_SIZE) {
      throw new ProtocolError(`bad MSG size ${excerpt(buf, start, end)}`);
    }

    const payloadEnd = at + size;
    const n = data.length;
    if (payloadEnd <= n) {
      // The common case: the whole payload is in this chunk, handed over without a copy.
      const payload = data.subarray(at, payloadEnd);
      this.#trailer = 2;
      const next = this.#skipTrailer(data, payloadEnd);
      this.#events.msg(sid, payload);
      return next;
    }
    const payload = new Uint8Array(size);
    payload.set(data.subarray(at, n));
    this.#payload = payload;
    this.#payloadFilled = n - at;
    this.#payloadSid = sid;
    return n;
  }

  /** Go on filling a payload that spans reads; returns where the chunk's next bytes start. */
  #fillPayload(chunk: Uint8Array): number {
    const payload = this.#payload!;
    const take = Math.min(payload.length - this.#payloadFilled, chunk.length);
    payload.set(chunk.subarray(0, take), this.#payloadFilled);
    this.#payloadFilled += take;
    if (this.#payloadFilled < payload.length) return take;
    this.#payload = undefined;
    this.#trailer = 2;
    const next = this.#skipTrailer(chunk, take);
    this.#events.msg(this.#payloadSid, payload);
    return next;
  }

  /** Check and skip what is available of a payload's CRLF. */
  #skipTrailer(chunk: Uint8Array, i: number): number {
    while (this.#trailer > 0 && i < chunk.length) {
      const expected = this.#trailer === 2 ? CR : LF;
      if (chunk[i] !== expected) throw new ProtocolError("a payload not followed by CRLF");
      this.#trailer--;
      i++;
    }
    return i;
  }
}
