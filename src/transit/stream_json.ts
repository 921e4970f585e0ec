/**
 * A stream chunk under the JSON serializer travels as a Node Buffer's JSON,
 * `{"type":"Buffer","data":[104,105]}` — what Moleculer sends and expects. Going through an array
 * of numbers and `JSON.stringify`/`JSON.parse` costs several times the transfer itself, so a chunk
 * packet is written with its digits straight into the packet's bytes, and an incoming one is read
 * back into a `Uint8Array` without the array. The bytes are those of the plain path.
 *
 * @example Write a chunk packet and read it back
 * ```ts
 * import { encodeChunkPacket, decodeChunkPacket } from "./stream_json.ts";
 *
 * const encode = (p: Record<string, unknown>) => new TextEncoder().encode(JSON.stringify(p));
 * const bytes = encodeChunkPacket(encode, { id: "1", seq: 1 }, "params", new Uint8Array([104, 105]));
 * console.log(new TextDecoder().decode(bytes)); // {"id":"1","seq":1,"params":{"type":"Buffer","data":[104,105]}}
 * const p = decodeChunkPacket(bytes, (text) => JSON.parse(text));
 * console.log(p?.params); // { type: "Buffer", data: Uint8Array(2) [ 104, 105 ] }
 * ```
 *
 * @module
 */

import type { PacketPayload } from "../serializers/serializer.ts";

const enc = new TextEncoder();
// Fatal: bytes that are not UTF-8 fall back to the plain path, which rejects them.
const dec = new TextDecoder("utf-8", { fatal: true });

/** Stands for the chunk while the rest of the packet is encoded or decoded. */
const PLACEHOLDER = "\u0001chunk\u0001";
const PLACEHOLDER_JSON = enc.encode(JSON.stringify(PLACEHOLDER));
const OPEN = enc.encode('{"type":"Buffer","data":[');
const CLOSE = enc.encode("]}");
/** How far into a packet the chunk is looked for (it comes after a few short fields). */
const SEARCH_LIMIT = 64 * 1024;
const SEQ = enc.encode('"seq":');
/**
 * A chunk's `seq` comes after its data, near the end of the packet, in Moleculer's packets and
 * in ours (`stream`, `seq`, then `ver`, `sender` and maybe `headers`): how much of the end to
 * look at.
 */
const SEQ_TAIL = 512;

/** The decimal digits of each byte value, 4 slots each, and how many there are. */
const DIGITS = new Uint8Array(256 * 4);
const DIGIT_COUNT = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const s = String(b);
  DIGIT_COUNT[b] = s.length;
  for (let i = 0; i < s.length; i++) DIGITS[b * 4 + i] = s.charCodeAt(i);
}

function indexOf(
  hay: Uint8Array,
  needle: Uint8Array,
  from: number,
  limit: number,
): number {
  const first = needle[0]!;
  const end = Math.min(hay.length - needle.length, limit);
  // The native `indexOf` finds each candidate first byte: a JavaScript loop over every byte of
  // a large packet (64 KiB of params) cost a third of a node's CPU at that size.
  outer: for (
    let i = hay.indexOf(first, from);
    i !== -1 && i <= end;
    i = hay.indexOf(first, i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * The bytes of a chunk packet: `payload` with `payload[field]` = the chunk as Buffer JSON.
 *
 * @param encode Encodes a payload as the JSON serializer does (with `ver` and `sender`).
 * @param payload The packet without its chunk (`field` is overwritten).
 * @param field `"params"` (a REQ) or `"data"` (a RES).
 * @param chunk The bytes.
 * @returns The packet's bytes.
 */
export function encodeChunkPacket(
  encode: (p: PacketPayload) => Uint8Array,
  payload: PacketPayload,
  field: "params" | "data",
  chunk: Uint8Array,
): Uint8Array {
  payload[field] = PLACEHOLDER;
  const head = encode(payload);
  const at = indexOf(head, PLACEHOLDER_JSON, 0, head.length);
  const out = new Uint8Array(
    head.length + OPEN.length + CLOSE.length + chunk.length * 4,
  );
  out.set(head.subarray(0, at), 0);
  let w = at;
  out.set(OPEN, w);
  w += OPEN.length;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i]!;
    const o = b * 4;
    const n = DIGIT_COUNT[b]!;
    out[w++] = DIGITS[o]!;
    if (n > 1) out[w++] = DIGITS[o + 1]!;
    if (n > 2) out[w++] = DIGITS[o + 2]!;
    out[w++] = 44; // ,
  }
  if (chunk.length > 0) w--;
  out.set(CLOSE, w);
  w += CLOSE.length;
  const tail = head.subarray(at + PLACEHOLDER_JSON.length);
  out.set(tail, w);
  return out.subarray(0, w + tail.length);
}

/**
 * Read a stream packet whose `params` or `data` is Buffer JSON, the chunk straight into a
 * `Uint8Array` (`{ type: "Buffer", data: Uint8Array }`).
 *
 * @param bytes The packet.
 * @param parse Parses the rest of the packet's text (the serializer's JSON.parse).
 * @returns The payload, or undefined when the packet is not such a chunk: read it the plain way.
 */
export function decodeChunkPacket(
  bytes: Uint8Array,
  parse: (text: string) => PacketPayload,
): PacketPayload | undefined {
  // Most large packets are not stream chunks: a numbered `seq` near the end says one may be,
  // before the whole packet is searched for the Buffer.
  const seq = indexOf(bytes, SEQ, Math.max(0, bytes.length - SEQ_TAIL), bytes.length);
  if (seq < 0) return undefined;
  const digit = bytes[seq + SEQ.length]! - 48;
  if (digit < 1 || digit > 9) return undefined;
  const at = indexOf(bytes, OPEN, 0, SEARCH_LIMIT);
  if (at < 0) return undefined;
  let i = at + OPEN.length;
  const len = bytes.length;
  const out = new Uint8Array((len - i + 1) >> 1);
  let n = 0;
  // One to three digits, then a comma or the closing bracket; anything else is not a Buffer.
  if (bytes[i] === 93) i++;
  else {
    for (;;) {
      let d = bytes[i++]! - 48;
      if (d >>> 0 > 9) return undefined;
      let v = d;
      let c = bytes[i++]!;
      d = c - 48;
      if (d >>> 0 <= 9) {
        v = v * 10 + d;
        c = bytes[i++]!;
        d = c - 48;
        if (d >>> 0 <= 9) {
          v = v * 10 + d;
          c = bytes[i++]!;
        }
      }
      if (v > 255) return undefined;
      out[n++] = v;
      if (c === 44) continue; // ,
      if (c === 93) break; // ]
      return undefined;
    }
  }
  if (bytes[i] !== 125) return undefined; // }
  i -= 1;
  const text = dec.decode(bytes.subarray(0, at)) + JSON.stringify(PLACEHOLDER) +
    dec.decode(bytes.subarray(i + 2));
  const p = parse(text);
  const chunk = { type: "Buffer", data: out.slice(0, n) };
  // Only a stream's chunk: a Buffer elsewhere keeps the plain reading (an array of numbers).
  if (p.seq === undefined) return undefined;
  if (p.params === PLACEHOLDER) p.params = chunk;
  else if (p.data === PLACEHOLDER) p.data = chunk;
  else return undefined;
  return p;
}
