/**
 * The frames of Moleculer's TCP transporter: a 6-byte header, then the serialized packet.
 *
 * ```
 * byte 0     CRC: the XOR of bytes 1 to 5
 * bytes 1-4  the frame's whole length, header included (int32, big-endian)
 * byte 5     the packet type: 1 EVENT, 2 REQ, 3 RES, 4 PING, 5 PONG,
 *            6 GOSSIP_REQ, 7 GOSSIP_RES, 8 GOSSIP_HELLO
 * bytes 6-   the payload, as the broker's serializer wrote it
 * ```
 *
 * INFO, DISCOVER, HEARTBEAT and DISCONNECT have no frame type: over TCP, gossip carries what
 * they say.
 *
 * @example Round-trip a frame
 * ```ts
 * import { encodeFrame, FrameParser } from "./frame.ts";
 *
 * const frame = encodeFrame(2, new TextEncoder().encode('{"id":"1"}'));
 * const parser = new FrameParser(1024, (type, payload) => console.log(type, payload.length));
 * parser.push(frame); // 2 10
 * ```
 *
 * @module
 */

/** Bytes of the header: CRC, length, type. */
export const HEADER_SIZE = 6;

/** The frame type byte of each packet type that travels over TCP. */
export const FRAME_TYPE = {
  EVENT: 1,
  REQ: 2,
  RES: 3,
  PING: 4,
  PONG: 5,
  GOSSIP_REQ: 6,
  GOSSIP_RES: 7,
  GOSSIP_HELLO: 8,
} as const;

/** A packet type that has a TCP frame type. */
export type FramedType = keyof typeof FRAME_TYPE;

/** The packet type of each frame type byte (index = byte). */
const TYPE_OF: readonly (FramedType | undefined)[] = [
  undefined,
  "EVENT",
  "REQ",
  "RES",
  "PING",
  "PONG",
  "GOSSIP_REQ",
  "GOSSIP_RES",
  "GOSSIP_HELLO",
];

/**
 * The frame type byte of a packet type.
 *
 * @param type A packet type, e.g. `"REQ"`.
 * @returns Its byte, or undefined when the type does not travel over TCP (INFO, DISCOVER, …).
 */
export function frameTypeOf(type: string): number | undefined {
  return (FRAME_TYPE as Record<string, number>)[type];
}

/**
 * Write the header of a frame into `into` at `at`.
 *
 * @param into The buffer.
 * @param at Where the frame starts.
 * @param type The frame type byte.
 * @param payloadLength The payload's length in bytes.
 */
export function writeHeader(
  into: Uint8Array,
  at: number,
  type: number,
  payloadLength: number,
) {
  const length = payloadLength + HEADER_SIZE;
  const b1 = (length >>> 24) & 0xff, b2 = (length >>> 16) & 0xff;
  const b3 = (length >>> 8) & 0xff, b4 = length & 0xff;
  into[at + 1] = b1;
  into[at + 2] = b2;
  into[at + 3] = b3;
  into[at + 4] = b4;
  into[at + 5] = type;
  into[at] = b1 ^ b2 ^ b3 ^ b4 ^ type;
}

/**
 * Build one frame.
 *
 * @param type The frame type byte.
 * @param payload The serialized packet.
 * @returns The header and the payload in one buffer.
 */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + payload.length);
  writeHeader(frame, 0, type, payload.length);
  frame.set(payload, HEADER_SIZE);
  return frame;
}

/** Why a byte stream stopped being readable as frames; the connection must close. */
export class FrameError extends Error {
  /** A stable name of the cause, for logging once per cause: `crc`, `length`, `size`. */
  readonly reason: "crc" | "length" | "size";

  /**
   * @param reason The cause.
   * @param message What was wrong.
   */
  constructor(reason: "crc" | "length" | "size", message: string) {
    super(message);
    this.name = "FrameError";
    this.reason = reason;
  }
}

/**
 * Cuts a byte stream into frames. Chunks may split or join frames anywhere. A wrong CRC, a
 * length below the header's or a frame above `maxPacketSize` makes {@linkcode FrameParser.push}
 * throw a {@linkcode FrameError}: the stream cannot be resynchronized, so its connection closes
 * (as Moleculer closes it). A frame of an unknown type is skipped and reported to `unknown`.
 */
export class FrameParser {
  readonly #max: number;
  readonly #onFrame: (type: FramedType, payload: Uint8Array) => void;
  readonly #onUnknown: (typeByte: number) => void;
  /** Bytes of an incomplete header, kept until the rest arrives. */
  #rest: Uint8Array | undefined;
  /** A frame whose header is read: its whole buffer, filled up to `filled`. */
  #frame: { buf: Uint8Array; filled: number } | undefined;

  /**
   * @param maxPacketSize The largest frame accepted (header included), in bytes.
   * @param onFrame Called with each complete frame; the payload is a copy the callee may keep.
   * @param onUnknown Called with the type byte of a skipped frame.
   */
  constructor(
    maxPacketSize: number,
    onFrame: (type: FramedType, payload: Uint8Array) => void,
    onUnknown: (typeByte: number) => void = () => {},
  ) {
    this.#max = maxPacketSize;
    this.#onFrame = onFrame;
    this.#onUnknown = onUnknown;
  }

  /** Bytes held for an incomplete frame. */
  get pending(): number {
    return (this.#rest?.length ?? 0) + (this.#frame?.filled ?? 0);
  }

  /**
   * Feed the next chunk of the stream. The chunk is not kept: the caller may reuse it.
   *
   * @param chunk Bytes as they arrived.
   * @throws {FrameError} when the stream is not (or no longer) made of valid frames.
   */
  push(chunk: Uint8Array): void {
    let buf = chunk;
    const frame = this.#frame;
    if (frame !== undefined) {
      // A large frame arrives in many chunks: each is copied once, into its place.
      const take = Math.min(frame.buf.length - frame.filled, chunk.length);
      frame.buf.set(chunk.subarray(0, take), frame.filled);
      frame.filled += take;
      if (frame.filled < frame.buf.length) return;
      this.#frame = undefined;
      this.#emit(frame.buf, 0, frame.buf.length);
      buf = chunk.subarray(take);
    } else if (this.#rest !== undefined) {
      const joined = new Uint8Array(this.#rest.length + chunk.length);
      joined.set(this.#rest);
      joined.set(chunk, this.#rest.length);
      buf = joined;
      this.#rest = undefined;
    }
    let at = 0;
    while (buf.length - at >= HEADER_SIZE) {
      const b1 = buf[at + 1]!,
        b2 = buf[at + 2]!,
        b3 = buf[at + 3]!,
        b4 = buf[at + 4]!;
      const typeByte = buf[at + 5]!;
      if ((b1 ^ b2 ^ b3 ^ b4 ^ typeByte) !== buf[at]) {
        throw new FrameError("crc", "a frame header has a wrong CRC");
      }
      // Signed, as Moleculer reads it: a negative length is as invalid as a short one.
      const length = (b1 << 24) | (b2 << 16) | (b3 << 8) | b4;
      if (length < HEADER_SIZE) {
        throw new FrameError(
          "length",
          `a frame declares a length of ${length} bytes`,
        );
      }
      if (length > this.#max) {
        throw new FrameError(
          "size",
          `a frame of ${length} bytes exceeds maxPacketSize (${this.#max} bytes)`,
        );
      }
      if (buf.length - at < length) {
        const whole = new Uint8Array(length);
        whole.set(buf.subarray(at));
        this.#frame = { buf: whole, filled: buf.length - at };
        return;
      }
      this.#emit(buf, at, length);
      at += length;
    }
    if (at < buf.length) this.#rest = buf.slice(at);
  }

  /** Hand over the frame of `length` bytes at `at` (header checked). */
  #emit(buf: Uint8Array, at: number, length: number): void {
    const typeByte = buf[at + 5]!;
    const type = TYPE_OF[typeByte];
    if (type === undefined) this.#onUnknown(typeByte);
    else this.#onFrame(type, buf.slice(at + HEADER_SIZE, at + length));
  }
}
