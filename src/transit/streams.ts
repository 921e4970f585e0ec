/**
 * Streams over the Moleculer protocol: a request stream (`broker.call(action, params, { stream
 * })`, Moleculer 0.14's stream-as-params) and a response stream (an action that returns one) travel
 * as numbered packets of the call's id — `seq` 0 is the request or the response itself, then one
 * packet per chunk (`stream: true`), then the end (`stream: false`), or an error end.
 *
 * This module is the state machine of both ends:
 *
 * - **Sending** ({@linkcode Streams.send}): chunks are read from a Web `ReadableStream` one at a
 *   time, cut to `maxChunkSize`, and each is published before the next is read.
 * - **Receiving** ({@linkcode Streams.receive}): packets are put back in `seq` order (early ones
 *   wait in a pool, as Moleculer does) and handed to a `ReadableStream` that the consumer pulls.
 *   What waits for the consumer is bounded by `maxStreamBuffer` bytes: past it, the stream fails
 *   with `STREAM_BUFFER_FULL` instead of growing.
 * - **Flow control between Denolecular nodes**: the receiver acknowledges what its consumer has
 *   read, and the sender keeps at most half the receiver's buffer in flight, so a slow consumer
 *   slows the sender down. A cancelled reader tells the sender, which cancels its source.
 *   Moleculer has neither: with a Moleculer peer the sender never waits, and a cancelled reader
 *   drops the rest of the stream here.
 * - **Ends that are not the end**: the call's timeout bounds the silence of a stream, a lost peer
 *   or connection fails it (`RequestTimeoutError`, `RequestRejectedError`,
 *   `BrokerDisconnectedError`), and every timer and table entry goes with it.
 *
 * Web-standard APIs only.
 *
 * @module
 */

import {
  BrokerDisconnectedError,
  fromPlain,
  MoleculerError,
  RequestRejectedError,
  RequestTimeoutError,
  toPlain,
} from "../errors.ts";
import type { PacketPayload } from "../serializers/serializer.ts";
import { isRecord } from "../_util/values.ts";
import { encodeChunkPacket } from "./stream_json.ts";
import { MAX_TIMER_MS } from "./packets.ts";
import { printable } from "../_util/values.ts";
import type { ProtocolVersion } from "../core/protocol.ts";

/** Moleculer's default `transit.maxChunkSize`: 256 KiB. */
export const DEFAULT_MAX_CHUNK_SIZE = 256 * 1024;
/** Default `transit.maxStreamBuffer`: 16 MiB may wait for a stream's consumer. */
export const DEFAULT_MAX_STREAM_BUFFER = 16 * 1024 * 1024;
/** What an object-mode chunk counts for in the buffer and the flow-control window. */
const OBJECT_CHUNK_SIZE = 1024;
/** How long chunks wait for the first packet of their stream before they are dropped. */
const ORPHAN_WAIT_MS = 5_000;
/** Most streams whose first packet has not come yet. */
const MAX_ORPHANS = 256;
/** How many ended streams are remembered, so that their late chunks are dropped quietly. */
const CLOSED_MEMORY = 1024;
/**
 * A sender without flow control (to a Moleculer node) pings the receiver after this many bytes,
 * and waits for that pong before it sends as many again: the PONG comes once the receiver has
 * taken the chunks before its PING (NATS keeps a connection's order), so the sender never runs
 * more than twice this far ahead of what the receiver has read off the wire.
 */
const PACE_BYTES = 4 * 1024 * 1024;
/** How long a pacing ping is waited for; a peer that does not answer is left to its heartbeats. */
const PACE_TIMEOUT_MS = 10_000;

/** Which side of a call a stream travels on. */
export type StreamKind = "request" | "response";

/** What the stream engine needs from transit. */
export interface StreamWire {
  /** This node's id. */
  readonly nodeID: string;
  /** The protocol: where `$streamObjectMode` and `$streamError` travel. */
  readonly version: ProtocolVersion;
  /**
   * True when the serializer carries `Uint8Array` as binary; under JSON a chunk travels as a Node
   * Buffer's JSON, `{ type: "Buffer", data: [...] }`, as Moleculer sends it.
   */
  readonly binary: boolean;
  /** Largest chunk sent; bigger ones are cut. 0 = no limit. */
  readonly maxChunkSize: number;
  /** Bytes that may wait for a stream's consumer. */
  readonly maxBuffer: number;
  /** Publish a REQ or RES packet to one node. */
  send(
    type: "REQ" | "RES",
    nodeID: string,
    payload: PacketPayload,
  ): Promise<void>;
  /** Encode a payload as `send` does (with `ver` and `sender`). */
  encode(payload: PacketPayload): Uint8Array;
  /** Publish encoded bytes. */
  publish(
    type: "REQ" | "RES",
    nodeID: string,
    bytes: Uint8Array,
  ): Promise<void>;
  /** Ping a node; resolves (with anything) on its pong or after `timeout` ms. */
  ping(nodeID: string, timeout: number): Promise<unknown>;
  /** Whether a node runs Denolecular, and so speaks the flow-control packets. */
  isDeno(nodeID: string): boolean;
  /** A rate-limited warning. */
  warn(key: string, message: string): void;
}

/** Where a call's stream goes, and what the packets around its chunks carry. */
export interface OutgoingCall {
  /** The call's id. */
  readonly id: string;
  /** The node at the other end. */
  readonly nodeID: string;
  /** The full action name (for errors). */
  readonly action: string;
  /** A request stream (chunks in REQ packets) or a response stream (RES). */
  readonly kind: StreamKind;
  /**
   * The first packet's payload, without `stream`, `seq` and the object-mode flag: the chunk
   * packets are copies of it.
   */
  readonly payload: PacketPayload;
  /** Ms the source may keep the stream waiting (a response stream), or null for no limit. */
  readonly timeout: number | null;
}

/** Flow-control fields of a packet (between Denolecular nodes only). */
interface StreamCtl {
  /** The highest `seq` the consumer has read. */
  ack?: number;
  /** Bytes the receiver lets be in flight. */
  window?: number;
  /** The receiver cancelled the stream. */
  cancel?: boolean;
}

function sizeOf(chunk: unknown): number {
  return chunk instanceof Uint8Array ? chunk.byteLength : OBJECT_CHUNK_SIZE;
}

const UTF8 = new TextEncoder();

/** A Node Buffer as JSON carries it (`data` already bytes when `stream_json.ts` read it). */
function isBufferJSON(
  v: unknown,
): v is { type: "Buffer"; data: number[] | Uint8Array } {
  return isRecord(v) && v.type === "Buffer" &&
    (Array.isArray(v.data) || v.data instanceof Uint8Array);
}

// ---- sending ----

/** One stream this node sends. */
class Outgoing {
  readonly call: OutgoingCall;
  readonly #wire: StreamWire;
  readonly #reader: ReadableStreamDefaultReader<unknown>;
  readonly #onDone: () => void;
  #seq = 0;
  #objectMode = false;
  #stopped = false;
  /** Flow control: bytes sent, bytes the receiver has read, and what may be in flight. */
  readonly #flow: boolean;
  #sent = 0;
  #acked = 0;
  #window: number;
  /** Cumulative bytes sent up to each unacknowledged `seq`. */
  readonly #inFlight: Array<[number, number]> = [];
  #wake: (() => void) | undefined;
  #sincePing = 0;
  #pong: Promise<unknown> | undefined;

  constructor(
    wire: StreamWire,
    call: OutgoingCall,
    reader: ReadableStreamDefaultReader<unknown>,
    onDone: () => void,
  ) {
    this.#wire = wire;
    this.call = call;
    this.#reader = reader;
    this.#onDone = onDone;
    this.#flow = wire.isDeno(call.nodeID);
    // Until the receiver says how much it takes: one default chunk.
    this.#window = Math.min(
      Math.floor(wire.maxBuffer / 2),
      DEFAULT_MAX_CHUNK_SIZE,
    );
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Send the first packet (`seq` 0), then every chunk, then the end. */
  async run(
    first: Promise<ReadableStreamReadResult<unknown>>,
    onFirstSent: (err?: unknown) => void,
  ) {
    let head: ReadableStreamReadResult<unknown>;
    try {
      head = await first;
    } catch (err) {
      // The source failed before its first chunk: the call still goes, and its stream errs.
      await this.#sendFirst(onFirstSent);
      if (!this.#stopped) await this.#sendError(err);
      return this.#finish();
    }
    let chunk0: unknown;
    try {
      chunk0 = head.done ? undefined : this.#toWire(head.value, true);
    } catch (err) {
      onFirstSent(err);
      this.#reader.cancel(err).catch(() => {});
      return this.#finish();
    }
    if (!await this.#sendFirst(onFirstSent)) return this.#finish();
    try {
      if (chunk0 !== undefined) await this.#sendChunk(chunk0);
      while (!this.#stopped) {
        const next = await this.#read();
        if (this.#stopped) break;
        if (next.done) {
          await this.#publish(this.#copy(false, null));
          break;
        }
        await this.#sendChunk(this.#toWire(next.value, false));
      }
    } catch (err) {
      if (!this.#stopped) {
        this.#reader.cancel(err).catch(() => {});
        await this.#sendError(err);
      }
    }
    this.#finish();
  }

  async #sendFirst(onFirstSent: (err?: unknown) => void): Promise<boolean> {
    const first = this.#copy(true, undefined);
    first.seq = 0;
    try {
      await this.#wire.send(
        this.call.kind === "request" ? "REQ" : "RES",
        this.call.nodeID,
        first,
      );
    } catch (err) {
      this.#stopped = true;
      onFirstSent(err);
      this.#reader.cancel(err).catch(() => {});
      return false;
    }
    onFirstSent();
    return true;
  }

  /** Read the next chunk; a response stream's source has the call's timeout to produce it. */
  #read(): Promise<ReadableStreamReadResult<unknown>> {
    const timeout = this.call.timeout;
    const read = this.#reader.read();
    if (timeout === null || timeout <= 0) return read;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RequestTimeoutError({
              action: this.call.action,
              nodeID: this.#wire.nodeID,
            }),
          ),
        Math.min(timeout, MAX_TIMER_MS),
      );
    });
    return Promise.race([read, late]).finally(() => clearTimeout(timer));
  }

  /** Decide the mode from the first chunk, and turn a chunk into what travels. */
  #toWire(value: unknown, first: boolean): unknown {
    if (first) {
      this.#objectMode = !(value instanceof Uint8Array) &&
        typeof value !== "string";
    }
    if (this.#objectMode) return value;
    if (typeof value === "string") return UTF8.encode(value);
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(
        `A byte stream of '${this.call.action}' gave a ${typeof value} chunk: give Uint8Array ` +
          "chunks, or objects from the first chunk on (object mode)",
      );
    }
    return value;
  }

  async #sendChunk(chunk: unknown): Promise<void> {
    const max = this.#wire.maxChunkSize;
    if (chunk instanceof Uint8Array) {
      if (chunk.byteLength === 0) return;
      if (max > 0 && chunk.byteLength > max) {
        for (let i = 0; i < chunk.byteLength && !this.#stopped; i += max) {
          await this.#sendOne(chunk.subarray(i, i + max));
        }
        return;
      }
    }
    await this.#sendOne(chunk);
  }

  async #sendOne(chunk: unknown): Promise<void> {
    const size = sizeOf(chunk);
    if (this.#flow) {
      while (
        !this.#stopped && this.#sent - this.#acked + size > this.#window &&
        this.#sent > this.#acked
      ) {
        await new Promise<void>((r) => this.#wake = r);
      }
      if (this.#stopped) return;
    }
    const p = this.#copy(true, chunk);
    if (chunk instanceof Uint8Array && !this.#wire.binary) {
      const field = this.call.kind === "request" ? "params" : "data";
      const bytes = encodeChunkPacket(
        (q) => this.#wire.encode(q),
        p,
        field,
        chunk,
      );
      await this.#wire.publish(
        this.call.kind === "request" ? "REQ" : "RES",
        this.call.nodeID,
        bytes,
      );
    } else await this.#publish(p);
    this.#sent += size;
    if (this.#flow) this.#inFlight.push([p.seq as number, this.#sent]);
    else if ((this.#sincePing += size) >= PACE_BYTES) {
      this.#sincePing = 0;
      const previous = this.#pong;
      this.#pong = this.#wire.ping(this.call.nodeID, PACE_TIMEOUT_MS);
      if (previous) await previous;
    }
  }

  async #sendError(err: unknown): Promise<void> {
    const p = this.#copy(false, null);
    const plain = toPlain(err, this.#wire.nodeID);
    if (this.call.kind === "response") {
      p.success = false;
      p.error = plain;
    } else if (this.#wire.version === "5") {
      p.headers = {
        ...(p.headers as Record<string, unknown>),
        $streamError: plain,
      };
    } else {
      p.meta = { $streamError: plain };
    }
    await this.#publish(p).catch(() => {});
  }

  /** A copy of the first packet for the next `seq`. */
  #copy(stream: boolean, data: unknown): PacketPayload {
    const p: PacketPayload = { ...this.call.payload };
    if (data !== undefined) {
      p[this.call.kind === "request" ? "params" : "data"] = data;
    }
    if (data !== undefined) p.meta = {};
    p.stream = stream;
    p.seq = data === undefined ? 0 : ++this.#seq;
    if (this.#objectMode) {
      if (this.#wire.version === "5") {
        p.headers = {
          ...(p.headers as Record<string, unknown> ?? {}),
          $streamObjectMode: true,
        };
      } else {
        p.meta = {
          ...(p.meta as Record<string, unknown>),
          $streamObjectMode: true,
        };
      }
    }
    return p;
  }

  #publish(p: PacketPayload): Promise<void> {
    return this.#wire.send(
      this.call.kind === "request" ? "REQ" : "RES",
      this.call.nodeID,
      p,
    );
  }

  /** A flow-control packet from the receiver. */
  control(ctl: StreamCtl): void {
    if (typeof ctl.window === "number" && ctl.window > 0) {
      this.#window = ctl.window;
    }
    if (typeof ctl.ack === "number") {
      while (this.#inFlight.length && this.#inFlight[0]![0] <= ctl.ack) {
        this.#acked = this.#inFlight.shift()![1];
      }
    }
    if (ctl.cancel === true) {
      this.stop(
        new MoleculerError(
          `The receiver of the stream of '${this.call.action}' cancelled it`,
          499,
          "STREAM_CANCELLED",
          { action: this.call.action, nodeID: this.call.nodeID },
        ),
        false,
      );
    }
    this.#wake?.();
    this.#wake = undefined;
  }

  /**
   * Stop sending: the source is cancelled with `reason`; with `tell`, the receiver gets an error
   * end (a timeout), else nothing more is sent (the peer is gone, or it cancelled).
   */
  stop(reason: unknown, tell: boolean): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#wake?.();
    this.#wake = undefined;
    this.#reader.cancel(reason).catch(() => {});
    if (tell) void this.#sendError(reason);
    this.#finish();
  }

  #finish(): void {
    this.#stopped = true;
    try {
      this.#reader.releaseLock();
    } catch { /* a read is still pending: it ends with the cancel */ }
    this.#onDone();
  }
}

// ---- receiving ----

/** One stream this node receives. */
class Incoming {
  readonly id: string;
  readonly sender: string;
  readonly kind: StreamKind;
  readonly #wire: StreamWire;
  readonly #onDone: (quietly: boolean) => void;
  /** The first packet has come (`seq` 0). */
  started = false;
  action = "";
  #objectMode = false;
  #timeout: number | null = null;
  #next = 0;
  readonly #pool = new Map<number, PacketPayload>();
  #poolBytes = 0;
  /** Chunks ready for the consumer, with their `seq` and size. */
  readonly #queue: Array<[number, unknown, number]> = [];
  #queued = 0;
  #end: { error: unknown } | undefined;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #controller!: ReadableStreamDefaultController<unknown>;
  #wake: (() => void) | undefined;
  /** Flow control: bytes read by the consumer, and bytes acknowledged. */
  readonly #flow: boolean;
  #read = 0;
  #readAcked = 0;
  readonly readable: ReadableStream<unknown>;

  constructor(
    wire: StreamWire,
    sender: string,
    id: string,
    kind: StreamKind,
    onDone: (quietly: boolean) => void,
  ) {
    this.#wire = wire;
    this.sender = sender;
    this.id = id;
    this.kind = kind;
    this.#onDone = onDone;
    this.#flow = wire.isDeno(sender);
    this.readable = new ReadableStream<unknown>({
      start: (c) => {
        this.#controller = c;
      },
      pull: () => this.#pull(),
      cancel: () => this.#cancelled(),
    }, { highWaterMark: 0 });
    // Until its first packet comes, a stream waits a bounded time.
    this.#arm(ORPHAN_WAIT_MS, () => {
      this.#wire.warn(
        `orphan ${sender}`,
        `Dropped the chunks of a stream from '${printable(sender)}': its first packet never came`,
      );
      this.#close(true);
    });
  }

  /** The first packet: the stream's mode and timeout. */
  start(action: string, objectMode: boolean, timeout: number | null): void {
    this.started = true;
    this.action = action;
    this.#objectMode = objectMode;
    this.#disarm();
    this.limit(timeout);
    // A Denolecular sender starts small, until it hears how much this side takes.
    this.#tellSender({ window: Math.floor(this.#wire.maxBuffer / 2) });
  }

  /** How long the stream may wait for its sender (the call's timeout), or null for ever. */
  limit(timeout: number | null): void {
    this.#timeout = timeout !== null && timeout > 0 ? Math.min(timeout, MAX_TIMER_MS) : null;
    this.#armIdle();
  }

  /**
   * A packet of this stream, in any order.
   *
   * @returns True when it is the first packet (`seq` 0), now accepted.
   */
  packet(p: PacketPayload): boolean {
    if (this.#closed) return false;
    const seq = p.seq as number;
    if (seq !== this.#next) {
      if (seq < this.#next || this.#pool.has(seq)) {
        this.#wire.warn(
          `dup ${this.sender}`,
          `Dropped a repeated packet (seq ${seq}) of a stream from '${printable(this.sender)}'`,
        );
        return false;
      }
      this.#pool.set(seq, p);
      this.#poolBytes += this.#wireSize(p);
      this.#checkBuffer();
      return false;
    }
    const first = seq === 0;
    this.#accept(p);
    while (!this.#closed && this.#pool.has(this.#next)) {
      const q = this.#pool.get(this.#next)!;
      this.#pool.delete(this.#next);
      this.#poolBytes -= this.#wireSize(q);
      this.#accept(q);
    }
    return first;
  }

  #wireSize(p: PacketPayload): number {
    const v = this.kind === "request" ? p.params : p.data;
    return v instanceof Uint8Array
      ? v.byteLength
      : isBufferJSON(v)
      ? v.data.length
      : OBJECT_CHUNK_SIZE;
  }

  #accept(p: PacketPayload): void {
    const seq = this.#next++;
    if (seq === 0) return;
    this.#armIdle();
    if (p.stream === true) {
      let chunk: unknown;
      try {
        chunk = this.#decode(this.kind === "request" ? p.params : p.data);
      } catch (err) {
        return this.fail(err);
      }
      const size = sizeOf(chunk);
      this.#queue.push([seq, chunk, size]);
      this.#queued += size;
      this.#checkBuffer();
      this.#deliver();
      return;
    }
    const error = this.#errorOf(p);
    if (error !== undefined) {
      // After the chunks before it: the error goes when the reader has read them.
      this.#end = { error };
      return this.#deliver();
    }
    // A clean end: what is left moves to the stream's own queue, and this entry goes now, so
    // that a reader that never reads the end holds no table entry.
    this.#close(false);
    for (const [, chunk] of this.#queue) this.#controller.enqueue(chunk);
    this.#queue.length = 0;
    this.#queued = 0;
    this.#controller.close();
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #decode(v: unknown): unknown {
    if (isBufferJSON(v)) {
      return v.data instanceof Uint8Array ? v.data : Uint8Array.from(v.data);
    }
    if (this.#objectMode || v instanceof Uint8Array) return v;
    if (typeof v === "string") return UTF8.encode(v);
    throw new TypeError(
      `A chunk of the byte stream from '${printable(this.sender)}' is not bytes: ${
        printable(typeof v)
      }`,
    );
  }

  #errorOf(p: PacketPayload): unknown {
    let plain: unknown;
    if (this.kind === "response") {
      if (p.success !== false) return undefined;
      plain = p.error;
    } else {
      const where = this.#wire.version === "5" ? p.headers : p.meta;
      plain = isRecord(where) ? where.$streamError : undefined;
      if (plain === undefined) return undefined;
    }
    return fromPlain(plain, this.sender);
  }

  #checkBuffer(): void {
    if (this.#queued + this.#poolBytes <= this.#wire.maxBuffer) return;
    this.fail(
      new MoleculerError(
        `The stream from '${this.sender}' holds more than ${this.#wire.maxBuffer} bytes its ` +
          "consumer has not read (transit.maxStreamBuffer): read it faster, or raise the option",
        413,
        "STREAM_BUFFER_FULL",
        {
          action: this.action,
          nodeID: this.sender,
          limit: this.#wire.maxBuffer,
        },
      ),
    );
    this.#tellSender({ cancel: true });
  }

  /** Hand queued chunks to a waiting reader; close or fail once the queue is empty. */
  #deliver(): void {
    if (!this.#wake) return;
    if (this.#queue.length) {
      const [seq, chunk, size] = this.#queue.shift()!;
      this.#queued -= size;
      const wake = this.#wake;
      this.#wake = undefined;
      this.#controller.enqueue(chunk);
      wake();
      this.#consumed(seq, size);
      if (this.#queue.length === 0 && !this.#end) this.#armIdle();
      return;
    }
    if (this.#end) {
      const wake = this.#wake;
      this.#wake = undefined;
      const { error } = this.#end;
      this.#close(false);
      if (error === undefined) this.#controller.close();
      else this.#controller.error(error);
      wake();
    }
  }

  #pull(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#deliver();
    });
  }

  #consumed(seq: number, size: number): void {
    if (!this.#flow) return;
    this.#read += size;
    if (this.#read - this.#readAcked >= this.#wire.maxBuffer / 8) {
      this.#readAcked = this.#read;
      this.#tellSender({
        ack: seq,
        window: Math.floor(this.#wire.maxBuffer / 2),
      });
    }
  }

  #tellSender(ctl: StreamCtl): void {
    if (!this.#flow) return;
    // A request stream's sender is the caller, which hears RES; a response stream's is the
    // serving node, which hears REQ.
    const type = this.kind === "request" ? "RES" : "REQ";
    this.#wire.send(type, this.sender, { id: this.id, streamCtl: ctl }).catch(
      () => {},
    );
  }

  /** The reader cancelled: drop the rest, and tell a Denolecular sender to stop. */
  #cancelled(): void {
    if (this.#closed) return;
    this.#close(true);
    this.#tellSender({ cancel: true });
  }

  /** Fail the stream with `error` (after nothing: queued chunks are dropped). */
  fail(error: unknown): void {
    if (this.#closed) return;
    this.#close(true);
    this.#queue.length = 0;
    this.#queued = 0;
    try {
      this.#controller.error(error);
    } catch { /* already closed */ }
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #armIdle(): void {
    if (this.#timeout === null || this.#closed) return;
    // The reader is behind: the sender is not the one keeping the stream waiting.
    if (this.#queue.length) return this.#disarm();
    this.#arm(
      this.#timeout,
      () =>
        this.fail(
          new RequestTimeoutError({ action: this.action, nodeID: this.sender }),
        ),
    );
  }

  #arm(ms: number, fire: () => void): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      fire();
    }, ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #close(remember: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disarm();
    this.#pool.clear();
    this.#poolBytes = 0;
    this.#onDone(remember);
  }
}

/** Read a packet's object-mode flag (protocol 5: headers; 4: meta) and remove it. */
function takeObjectMode(p: PacketPayload, version: ProtocolVersion): boolean {
  const where = version === "5" ? p.headers : p.meta;
  if (!isRecord(where) || where.$streamObjectMode === undefined) return false;
  const on = where.$streamObjectMode === true;
  delete where.$streamObjectMode;
  return on;
}

/** The streams of one transit, both ways. */
export class Streams {
  readonly #wire: StreamWire;
  readonly #incoming = new Map<string, Incoming>();
  readonly #outgoing = new Map<string, Outgoing>();
  /** Ids of streams ended here (cancelled, failed): their late packets are dropped quietly. */
  readonly #closed = new Set<string>();
  #orphans = 0;

  /** @param wire What the engine sends through. */
  constructor(wire: StreamWire) {
    this.#wire = wire;
  }

  /** Streams being received and sent. */
  get size(): number {
    return this.#incoming.size + this.#outgoing.size;
  }

  /**
   * Send a stream: its first packet (`call.payload` with `stream: true, seq: 0`), its chunks and
   * its end. Resolves once the first packet is published (or rejects when it cannot be); the
   * rest goes on in the background.
   *
   * @param call Where it goes and what its packets carry.
   * @param source The chunks.
   * @returns Settles when the first packet has gone.
   */
  send(call: OutgoingCall, source: ReadableStream<unknown>): Promise<void> {
    let reader: ReadableStreamDefaultReader<unknown>;
    try {
      reader = source.getReader();
    } catch (err) {
      return Promise.reject(err);
    }
    const key = `${call.kind}:${call.id}`;
    this.#outgoing.get(key)?.stop(
      new Error("replaced by a new stream of the same id"),
      false,
    );
    const out = new Outgoing(this.#wire, call, reader, () => {
      if (this.#outgoing.get(key) === out) this.#outgoing.delete(key);
    });
    this.#outgoing.set(key, out);
    // The first chunk decides the mode (bytes or objects) that the first packet announces.
    return new Promise<void>((resolve, reject) => {
      void out.run(
        reader.read(),
        (err) => err === undefined ? resolve() : reject(err),
      );
    });
  }

  /**
   * Stop sending the request stream of a call (it was answered with an error, timed out, or
   * its node left).
   *
   * @param id The call's id.
   * @param reason What the source is cancelled with.
   * @param tell Send the receiver an error end.
   */
  stopRequest(id: string, reason: unknown, tell: boolean): void {
    this.#outgoing.get(`request:${id}`)?.stop(reason, tell);
  }

  /**
   * A packet of a stream this node receives, or a flow-control packet about one it sends.
   *
   * @param kind `"request"` for a REQ packet, `"response"` for a RES.
   * @param sender The node it came from.
   * @param p The payload (untrusted; `seq` or `streamCtl` set).
   * @param expected For a RES: whether a call waits for it (an unknown id is an orphan).
   * @returns The stream when `p` was its first packet (`seq` 0), else undefined.
   * @throws {Error} for a malformed packet: it is dropped.
   */
  receive(
    kind: StreamKind,
    sender: string,
    p: PacketPayload,
    expected?: (id: string) => boolean,
  ): Incoming | undefined {
    if (typeof p.id !== "string") {
      throw new Error(
        `stream ${kind === "request" ? "REQ" : "RES"} needs a string 'id'`,
      );
    }
    const id = p.id;
    if (p.streamCtl !== undefined) {
      // About a stream we send the other way: a REQ's is a response stream's, and a RES's a
      // request stream's.
      const out = this.#outgoing.get(
        `${kind === "request" ? "response" : "request"}:${id}`,
      );
      if (out && out.call.nodeID === sender && isRecord(p.streamCtl)) {
        out.control(p.streamCtl);
      }
      return undefined;
    }
    const seq = p.seq;
    if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 0) {
      throw new Error(`malformed stream packet: seq ${printable(seq)}`);
    }
    const key = `${kind}:${id}`;
    let s = this.#incoming.get(key);
    if (s === undefined) {
      if (this.#closed.has(key)) return undefined;
      if (kind === "response" && expected && !expected(id)) {
        this.#wire.warn(
          `orphan ${sender}`,
          `Dropped a stream packet from '${printable(sender)}': no call waits for it (timed out?)`,
        );
        return undefined;
      }
      if (seq !== 0 && this.#orphans >= MAX_ORPHANS) {
        this.#wire.warn(
          `orphan ${sender}`,
          `Dropped a stream packet from '${
            printable(sender)
          }': too many streams wait for their first packet`,
        );
        return undefined;
      }
      const created: Incoming = new Incoming(
        this.#wire,
        sender,
        id,
        kind,
        (remember) => {
          if (!created.started) this.#orphans--;
          if (this.#incoming.get(key) === created) this.#incoming.delete(key);
          if (remember) this.#remember(key);
        },
      );
      s = created;
      this.#orphans++;
      this.#incoming.set(key, s);
    } else if (s.sender !== sender) {
      throw new Error(`a packet for a stream of '${printable(s.sender)}'`);
    }
    if (seq === 0) {
      if (s.started) return undefined;
      this.#orphans--;
      const timeout = typeof p.timeout === "number" ? p.timeout : null;
      s.start(
        typeof p.action === "string" ? p.action : "",
        takeObjectMode(p, this.#wire.version),
        timeout,
      );
    }
    return s.packet(p) ? s : undefined;
  }

  /**
   * Set the idle limit of a response stream that a call now holds: the call's timeout.
   *
   * @param s The stream.
   * @param timeout Ms, or null for none.
   */
  withTimeout(s: Incoming, timeout: number | null): void {
    s.limit(timeout);
  }

  /**
   * A response was sent for a request that came with a stream: a stream its handler never
   * touched is dropped (and a Denolecular sender told to stop), as nobody will read it.
   *
   * @param s The request's stream.
   */
  answered(s: Incoming): void {
    if (!s.readable.locked) s.readable.cancel().catch(() => {});
  }

  /**
   * A node left: its streams fail with {@linkcode RequestRejectedError}.
   *
   * @param nodeID The node.
   */
  nodeGone(nodeID: string): void {
    for (const s of [...this.#incoming.values()]) {
      if (s.sender === nodeID) {
        s.fail(new RequestRejectedError({ action: s.action, nodeID }));
      }
    }
    for (const o of [...this.#outgoing.values()]) {
      if (o.call.nodeID === nodeID) {
        o.stop(
          new RequestRejectedError({ action: o.call.action, nodeID }),
          false,
        );
      }
    }
  }

  /**
   * The connection is lost or transit stops: every stream fails with
   * {@linkcode BrokerDisconnectedError}.
   *
   * @param why The message.
   */
  failAll(why: string): void {
    for (const s of [...this.#incoming.values()]) {
      s.fail(
        new BrokerDisconnectedError(why, {
          action: s.action,
          nodeID: s.sender,
        }),
      );
    }
    for (const o of [...this.#outgoing.values()]) {
      o.stop(
        new BrokerDisconnectedError(why, {
          action: o.call.action,
          nodeID: o.call.nodeID,
        }),
        false,
      );
    }
  }

  #remember(key: string): void {
    this.#closed.add(key);
    if (this.#closed.size > CLOSED_MEMORY) {
      this.#closed.delete(this.#closed.values().next().value!);
    }
  }
}

/** The stream state machine's incoming side, for transit's hooks. */
export type IncomingStream = Incoming;
