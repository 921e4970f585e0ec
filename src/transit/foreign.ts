/**
 * Packets this node cannot read, explained: when the serializer (or a transmit middleware such
 * as `Compression` or `Encryption`) fails on a packet, its first bytes say what the sender most
 * likely does differently — another serializer (JSON starts with `{`, a MessagePack map with
 * `0x80`–`0x8f`, `0xde` or `0xdf`, a CBOR map with `0xa0`–`0xbf` or a tag), Moleculer's
 * compression header (`0x00` or `0x01`), or encryption (none of those, in whole cipher blocks).
 * The sender's nodeID is read from the bytes where they show it. Each cause is logged once per
 * sender; the packet is dropped.
 *
 * @example
 * ```ts
 * import { lookAt } from "./foreign.ts";
 *
 * const json = new TextEncoder().encode('{"ver":"5","sender":"node-1"}');
 * console.log(lookAt(json)); // { format: "JSON", sender: "node-1" }
 * ```
 *
 * @module
 */

import type { Logger } from "../logging.ts";
import { printable } from "../_util/values.ts";
import { isValidSender, type PacketType } from "../core/protocol.ts";
import { WARN_MAX_KEYS, type WarnLimiter } from "./warn_limiter.ts";

/** The byte formats of Moleculer's serializers. */
export type WireFormat = "JSON" | "MessagePack" | "CBOR";

/** What a packet's bytes look like. */
export interface BytesLook {
  /**
   * A serializer's format; `"compressed"` for Moleculer's compression header; `"unknown"`
   * otherwise.
   */
  readonly format: WireFormat | "compressed" | "unknown";
  /** The sender's nodeID, when the bytes show it. */
  readonly sender?: string;
}

const SERIALIZERS: Readonly<Record<WireFormat, string>> = {
  JSON: "JSON or JSONExt",
  MessagePack: "MsgPack or Notepack",
  CBOR: "CBOR",
};

/**
 * The format of a serializer, by its Moleculer name.
 *
 * @param name E.g. `"MsgPack"`.
 * @returns Its format, or undefined for a serializer this module does not know.
 */
export function formatOfSerializer(name: string): WireFormat | undefined {
  switch (name) {
    case "JSON":
    case "JSONExt":
      return "JSON";
    case "MsgPack":
    case "Notepack":
      return "MessagePack";
    case "CBOR":
      return "CBOR";
  }
  return undefined;
}

/** The format whose packets (always a map at the top) start with this byte. */
function formatAt(b: Uint8Array, i: number): WireFormat | undefined {
  const c = b[i];
  if (c === undefined) return undefined;
  if (c === 0x7b) return "JSON";
  if ((c & 0xf0) === 0x80 || c === 0xde || c === 0xdf) return "MessagePack";
  // A map (major type 5), or a tag (cbor-x marks records and self-description with one).
  if ((c >= 0xa0 && c <= 0xbb) || c === 0xbf || c === 0xd8 || c === 0xd9) return "CBOR";
  return undefined;
}

const KEY = new TextEncoder().encode("sender");

/** The last index of `needle` (its first byte `lead`, then "sender") in `b`, or -1. */
function lastKey(b: Uint8Array, lead: readonly number[], from: number): number {
  const n = lead.length + KEY.length;
  outer: for (let i = b.length - n; i >= from; i--) {
    for (let j = 0; j < lead.length; j++) if (b[i + j] !== lead[j]) continue outer;
    for (let j = 0; j < KEY.length; j++) if (b[i + lead.length + j] !== KEY[j]) continue outer;
    return i + n;
  }
  return -1;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** The string value after the `sender` key at `at`, in the format's string encoding. */
function stringAt(b: Uint8Array, at: number, format: WireFormat): string | undefined {
  if (format === "JSON") {
    let i = at;
    while (b[i] === 0x20) i++;
    if (b[i++] !== 0x3a) return undefined; // :
    while (b[i] === 0x20) i++;
    if (b[i] !== 0x22) return undefined; // "
    let end = i + 1;
    while (end < b.length && b[end] !== 0x22) end += b[end] === 0x5c ? 2 : 1;
    try {
      return JSON.parse(utf8.decode(b.subarray(i, end + 1))) as string;
    } catch {
      return undefined;
    }
  }
  const h = b[at];
  if (h === undefined) return undefined;
  let len: number;
  let start = at + 1;
  if (format === "MessagePack") {
    if (h >= 0xa0 && h <= 0xbf) len = h & 0x1f;
    else if (h === 0xd9) len = b[start++] ?? 0;
    else if (h === 0xda) len = ((b[start] ?? 0) << 8) | (b[start + 1] ?? 0), start += 2;
    else return undefined;
  } else {
    if (h >= 0x60 && h <= 0x77) len = h - 0x60;
    else if (h === 0x78) len = b[start++] ?? 0;
    else if (h === 0x79) len = ((b[start] ?? 0) << 8) | (b[start + 1] ?? 0), start += 2;
    else return undefined;
  }
  if (start + len > b.length) return undefined;
  return utf8.decode(b.subarray(start, start + len));
}

const LEADS: Readonly<Record<WireFormat, readonly number[]>> = {
  JSON: [0x22], // "sender"
  MessagePack: [0xa6], // fixstr of 6
  CBOR: [0x66], // text of 6
};

/** The `sender` key in the format's encoding, and its value when it is a nodeID; or undefined. */
function senderIn(
  b: Uint8Array,
  format: WireFormat,
  from: number,
): { sender: string | undefined } | undefined {
  let at = lastKey(b, LEADS[format], from);
  if (at < 0) return undefined;
  if (format === "JSON") {
    if (b[at] !== 0x22) return undefined; // the closing quote of "sender"
    at++;
  }
  const sender = stringAt(b, at, format);
  return { sender: isValidSender(sender) ? sender : undefined };
}

/**
 * What a packet's bytes look like, and who sent it when they show it. Moleculer puts `ver` and
 * `sender` last, so the sender is searched from the end.
 *
 * @param bytes A packet's bytes, as received or as they reached the serializer.
 * @returns The look.
 */
export function lookAt(bytes: Uint8Array): BytesLook {
  const format = formatAt(bytes, 0);
  // A first byte is a guess (encrypted bytes start with anything); every Moleculer packet has
  // a sender key, so the guess stands only when one is there.
  if (format) {
    const found = senderIn(bytes, format, 0);
    if (found) return withSender(format, found.sender);
  }
  const first = bytes[0];
  // Moleculer's compression header: 0x00 and the packet as it is, or 0x01 and zlib, gzip or
  // raw deflate bytes.
  if (first === 0x00) {
    const inner = formatAt(bytes, 1);
    const found = inner && senderIn(bytes, inner, 1);
    if (found) return withSender("compressed", found.sender);
  }
  if (first === 0x01 && bytes.length > 2) return { format: "compressed" };
  return { format: "unknown" };
}

function withSender(format: BytesLook["format"], sender: string | undefined): BytesLook {
  return sender === undefined ? { format } : { format, sender };
}

/** "a REQ", "an INFO". */
function an(type: string): string {
  return /^[AEIOU]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** True for bytes that look like a block cipher's output (whole 16-byte blocks of noise). */
function looksEncrypted(bytes: Uint8Array, look: BytesLook): boolean {
  return look.format === "unknown" && bytes.length >= 16 && bytes.length % 16 === 0;
}

/**
 * Explains, and drops, the packets this node cannot read: once per cause and sender as a
 * warning naming the likely cause; a packet that is simply malformed goes to the rate-limited
 * warnings as before.
 */
export class ForeignPackets {
  readonly #serializer: string;
  readonly #format: WireFormat | undefined;
  readonly #transmit: readonly string[];
  readonly #warnings: WarnLimiter;
  readonly #logger: Pick<Logger, "warn">;
  readonly #told = new Set<string>();

  /**
   * @param serializer The name of this node's serializer, e.g. `"JSON"`.
   * @param transmit The names of this node's middlewares that change the bytes on the wire
   *   (those with a `transporterReceive` hook), e.g. `["Compression"]`.
   * @param warnings Where malformed packets and repeated causes are reported.
   * @param logger Where a cause is reported the first time.
   */
  constructor(
    serializer: string,
    transmit: readonly string[],
    warnings: WarnLimiter,
    logger: Pick<Logger, "warn">,
  ) {
    this.#serializer = serializer;
    this.#format = formatOfSerializer(serializer);
    this.#transmit = transmit;
    this.#warnings = warnings;
    this.#logger = logger;
  }

  /**
   * The serializer could not read a packet.
   *
   * @param type The packet type of its subscription.
   * @param data The bytes the serializer was given (after the transmit middlewares, if any).
   * @param err What the serializer threw.
   */
  undecodable(type: PacketType, data: Uint8Array, err: unknown): void {
    const look = lookAt(data);
    const from = this.#from(look);
    const ours = this.#serializer;
    const after = this.#transmit.length ? ` after this node's ${this.#transmit.join(", ")}` : "";
    if (look.format !== "unknown" && look.format !== "compressed" && look.format !== this.#format) {
      return this.#tell(
        `serializer ${look.format}`,
        look,
        `Dropped ${an(type)} packet${from}: it seems to use a different serializer (its packets ` +
          `look like ${look.format}: ${SERIALIZERS[look.format]}); this node uses ${ours}. ` +
          "Give every node the same 'serializer'",
      );
    }
    if (look.format === "compressed" && !this.#transmit.includes("Compression")) {
      return this.#tell(
        "compressed",
        look,
        `Dropped ${an(type)} packet${from}: it seems to use the Compression middleware (the ` +
          "packet starts with Moleculer's compression header); this node does not. Give every " +
          "node the same transmit middlewares",
      );
    }
    if (looksEncrypted(data, look)) {
      return this.#tell(
        "encrypted",
        look,
        `Dropped ${
          an(type)
        } packet${from} that ${ours} cannot read${after}: its bytes look like no ` +
          (this.#transmit.includes("Encryption")
            ? "serializer's: the sender seems to use another password, IV or algorithm"
            : "serializer's: the sender seems to use the Encryption middleware, which this node " +
              "does not") +
          ". Give every node the same transmit middlewares and secrets",
      );
    }
    if (look.format === "unknown" && this.#transmit.length) {
      return this.#tell(
        "garbled",
        look,
        `Dropped ${an(type)} packet${from}: ${ours} cannot read it${after}: the sender seems to ` +
          "use other transmit middlewares or secrets than this node. Give every node the same ones",
      );
    }
    this.#warnings.warn(
      `malformed ${type}`,
      `Dropped a malformed ${type} packet${after}: ${printable((err as Error)?.message, 200)}`,
    );
  }

  /**
   * A transmit middleware (Compression, Encryption) could not read a packet.
   *
   * @param type The packet type of its subscription.
   * @param data The bytes as they came from the transporter.
   * @param reason What the middleware said.
   */
  unreadable(type: PacketType, data: Uint8Array, reason: string): void {
    const look = lookAt(data);
    const from = this.#from(look);
    const mine = this.#transmit.join(", ");
    const why = printable(reason, 200);
    if (look.format !== "unknown" && look.format !== "compressed") {
      return this.#tell(
        `plain ${look.format}`,
        look,
        `Dropped ${an(type)} packet${from}: ${why}. It is plain ${look.format}: the sender seems ` +
          `not to use ${mine}, which this node does. Give every node the same transmit middlewares`,
      );
    }
    if (look.format === "compressed" && !reason.startsWith("Compression")) {
      return this.#tell(
        "compressed only",
        look,
        `Dropped ${
          an(type)
        } packet${from}: ${why}. It starts with Moleculer's compression header: ` +
          "the sender seems to use Compression without Encryption. Give every node the same " +
          "transmit middlewares",
      );
    }
    this.#tell(
      `unreadable ${reason.slice(0, 12)}`,
      look,
      `Dropped ${an(type)} packet${from}: ${why}. The sender seems to use other transmit ` +
        `middlewares or secrets than this node's (${mine}). Give every node the same ones`,
    );
  }

  #from(look: BytesLook): string {
    return look.sender === undefined
      ? " from an unknown node"
      : ` from '${printable(look.sender)}'`;
  }

  /** Once per cause and sender; past the bound of remembered senders, rate-limited. */
  #tell(cause: string, look: BytesLook, message: string): void {
    const key = `${cause}|${look.sender ?? ""}`;
    if (this.#told.has(key)) return;
    if (this.#told.size >= WARN_MAX_KEYS) return this.#warnings.warn(key, message);
    this.#told.add(key);
    this.#logger.warn(message);
  }
}
