/**
 * UTF-8 text to bytes and back for the JSON serializers, without an allocation per packet on
 * the way out and with a strict check on the way in only when the bytes look wrong.
 *
 * @module
 */

import { InvalidPacketDataError } from "../errors.ts";

/** Longest excerpt of an undecodable packet kept in the error's `data.packet`. */
export const MAX_EXCERPT = 256;

const encoder = new TextEncoder();
// `fatal`: bytes that are not UTF-8 cannot come from a Moleculer node; reject them.
const strict = new TextDecoder("utf-8", { fatal: true });
// The fatal check costs ~300 ns a packet on Deno: decode leniently, and re-decode strictly only
// when a U+FFFD (what lenient decoding puts for bad bytes, or a genuine one) shows up.
const lenient = new TextDecoder("utf-8");

// `TextEncoder.encode` allocates an ArrayBuffer per packet (~400 ns on Deno): `encodeInto` a
// shared slab instead. A slice handed out is never written again (a full slab is replaced, not
// reused), so callers may keep it. Large packets get their own buffer.
const SLAB_SIZE = 64 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabAt = 0;

/**
 * The UTF-8 bytes of a text, in a slice of a shared slab that is never written again.
 *
 * @param text The text.
 * @returns Its bytes.
 */
export function encodeUtf8(text: string): Uint8Array {
  // A UTF-16 unit encodes to at most 3 bytes.
  const max = text.length * 3;
  if (SLAB_SIZE - slabAt < max) {
    if (max > SLAB_SIZE / 4) return encoder.encode(text);
    slab = new Uint8Array(SLAB_SIZE);
    slabAt = 0;
  }
  const { written } = encoder.encodeInto(text, slab.subarray(slabAt));
  const out = slab.subarray(slabAt, slabAt + written);
  slabAt += written;
  return out;
}

/**
 * The text of UTF-8 bytes.
 *
 * @param data The bytes received.
 * @returns The text.
 * @throws {InvalidPacketDataError} when the bytes are not UTF-8.
 */
export function decodeUtf8(data: Uint8Array): string {
  try {
    const text = lenient.decode(data);
    return text.indexOf("\uFFFD") === -1 ? text : strict.decode(data);
  } catch (cause) {
    throw new InvalidPacketDataError(
      { packet: data.subarray(0, MAX_EXCERPT) },
      { cause },
    );
  }
}

/**
 * The start of a text, for an error's `data.packet`.
 *
 * @param text The text of a packet.
 * @returns At most {@linkcode MAX_EXCERPT} characters of it.
 */
export function excerpt(text: string): string {
  return text.length > MAX_EXCERPT ? `${text.slice(0, MAX_EXCERPT)}…` : text;
}
