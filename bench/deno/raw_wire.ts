/**
 * A second raw floor for bench/compare.ts: the same request pattern as bench/deno/raw.ts, on a
 * minimal NATS protocol client written for this benchmark only (`Deno.connect`, `PUB`/`SUB`/`MSG`,
 * one reusable output buffer flushed once per microtask, a parser that reads `MSG` lines in
 * place). It has no reconnect, TLS, auth or headers, so it is not a transport for the broker: it
 * measures how much of the floor is nats.js itself, i.e. what a leaner client could gain at best.
 * The pattern itself is bench/deno/_raw_pattern.ts; options: JSON in the first argument.
 *
 * @module
 */

import { type RawClient, rawOptions, runRawPattern } from "./_raw_pattern.ts";

type Handler = (data: Uint8Array) => void;

const CR = 13;
const LF = 10;
const SPACE = 32;
const ZERO = 48;
const LETTER_M = 77;
const te = new TextEncoder();
const td = new TextDecoder();

/** Just enough of the NATS client protocol to publish and receive on plain subjects. */
class WireClient implements RawClient {
  readonly #conn: Deno.TcpConn;
  readonly #handlers = new Map<number, Handler>();
  #sid = 0;
  #out = new Uint8Array(64 * 1024);
  #outLen = 0;
  #spare = new Uint8Array(64 * 1024);
  #flushing = false;
  #scheduled = false;
  #pongs: (() => void)[] = [];

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async connect(url: string): Promise<WireClient> {
    const { hostname, port } = new URL(url.includes("://") ? url : `nats://${url}`);
    const client = new WireClient(await Deno.connect({ hostname, port: Number(port) }));
    client.#readLoop().catch((e) => console.error("wire client:", e));
    client.#text('CONNECT {"verbose":false,"pedantic":false,"lang":"deno","protocol":1}\r\n');
    await client.flush();
    return client;
  }

  /** Round trip to the server: resolves when it has processed everything sent before. */
  flush(): Promise<void> {
    const pong = new Promise<void>((resolve) => this.#pongs.push(resolve));
    this.#text("PING\r\n");
    return pong;
  }

  subscribe(subject: string, handler: Handler): void {
    const sid = ++this.#sid;
    this.#handlers.set(sid, handler);
    this.#text(`SUB ${subject} ${sid}\r\n`);
  }

  /** Queue `PUB <subject> <n>\r\n<data>\r\n`; subjects are ASCII, so bytes are char codes. */
  publish(subject: string, data: Uint8Array): void {
    const head = `PUB ${subject} ${data.length}\r\n`;
    const out = this.#reserve(head.length + data.length + 2);
    let at = this.#outLen;
    for (let i = 0; i < head.length; i++) out[at++] = head.charCodeAt(i);
    out.set(data, at);
    at += data.length;
    out[at++] = CR;
    out[at++] = LF;
    this.#outLen = at;
    this.#schedule();
  }

  #text(line: string): void {
    const out = this.#reserve(line.length * 3);
    this.#outLen += te.encodeInto(line, out.subarray(this.#outLen)).written;
    this.#schedule();
  }

  #reserve(n: number): Uint8Array {
    if (this.#outLen + n > this.#out.length) {
      const bigger = new Uint8Array(Math.max(this.#out.length * 2, this.#outLen + n));
      bigger.set(this.#out.subarray(0, this.#outLen));
      this.#out = bigger;
    }
    return this.#out;
  }

  // Everything published in one turn of the event loop leaves in one write.
  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    this.#flushing = true;
    while (this.#outLen > 0) {
      const buf = this.#out;
      const len = this.#outLen;
      this.#out = this.#spare.length >= buf.length ? this.#spare : new Uint8Array(buf.length);
      this.#outLen = 0;
      for (let at = 0; at < len;) at += await this.#conn.write(buf.subarray(at, len));
      this.#spare = buf;
    }
    this.#flushing = false;
  }

  async #readLoop(): Promise<void> {
    let buf = new Uint8Array(256 * 1024);
    let start = 0;
    let end = 0;
    for (;;) {
      if (end === buf.length) {
        if (start > 0) {
          buf.copyWithin(0, start, end);
          end -= start;
          start = 0;
        } else {
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf);
          buf = bigger;
        }
      }
      const n = await this.#conn.read(buf.subarray(end));
      if (n === null) return;
      end += n;
      start = this.#parse(buf, start, end);
      if (start === end) start = end = 0;
    }
  }

  /** Handle every complete operation in `buf[start, end)`; returns where the rest begins. */
  #parse(buf: Uint8Array, start: number, end: number): number {
    for (;;) {
      const eol = buf.indexOf(LF, start);
      if (eol < 0 || eol >= end) return start;
      const lineEnd = eol - 1; // at the CR
      if (buf[start] === LETTER_M) {
        // MSG <subject> <sid> [reply-to] <#bytes>
        let size = 0;
        let at = lineEnd - 1;
        for (let scale = 1; buf[at] !== SPACE; at--, scale *= 10) size += (buf[at]! - ZERO) * scale;
        const payload = eol + 1;
        if (payload + size + 2 > end) return start;
        at = buf.indexOf(SPACE, start + 4) + 1;
        let sid = 0;
        for (let c = buf[at]!; c !== SPACE && c !== CR; c = buf[++at]!) sid = sid * 10 + c - ZERO;
        this.#handlers.get(sid)?.(buf.slice(payload, payload + size));
        start = payload + size + 2;
      } else {
        const line = td.decode(buf.subarray(start, lineEnd));
        start = eol + 1;
        if (line === "PING") this.#text("PONG\r\n");
        else if (line === "PONG") this.#pongs.shift()?.();
        else if (line.startsWith("-ERR")) console.error("wire client:", line);
      }
    }
  }
}

const o = rawOptions();
await runRawPattern(await WireClient.connect(o.url), o);
Deno.exit(0);
