/**
 * The Notepack serializer: the bytes of Moleculer's `Notepack` serializer (notepack.io),
 * written by this module's own MessagePack codec (`msgpack_codec.ts`) in notepack's dialect:
 * every fraction a float 64, `undefined` in an array as nil, an object's `toJSON()` used.
 *
 * A `Uint8Array` (or any binary view, as notepack copies it) is MessagePack binary: a Node
 * node reads it as a `Buffer`, and binary from Node arrives here as a `Uint8Array`.
 *
 * @example Round trip
 * ```ts
 * import { NotepackSerializer } from "./notepack.ts";
 *
 * const notepack = new NotepackSerializer();
 * const bytes = notepack.serialize({ cpu: 1.5, ver: "5", sender: "n1" });
 * notepack.deserialize(bytes); // { cpu: 1.5, ver: "5", sender: "n1" }
 * ```
 *
 * @module
 */

import { decodeMsgPack, encodeMsgPack, NOTEPACK } from "./msgpack_codec.ts";
import type { PacketPayload, Serializer } from "./serializer.ts";

/**
 * Moleculer's Notepack serializer (`serializer: "Notepack"`), byte for byte as notepack.io 3.x
 * writes it. Takes no options; stateless.
 *
 * @example
 * ```ts
 * import { NotepackSerializer } from "./notepack.ts";
 *
 * new NotepackSerializer().serialize({ ver: "5", sender: "n1" }); // Uint8Array [ 130, 163, 118, … ]
 * ```
 */
export class NotepackSerializer implements Serializer {
  /** The Moleculer name of this serializer: `"Notepack"`. */
  readonly name: string = "Notepack";

  /**
   * Encode a payload as notepack.io does.
   *
   * @param payload The packet payload.
   * @returns Its MessagePack bytes.
   * @throws {TypeError} for what notepack cannot encode either: a BigInt, a symbol, a
   *   function outside an object.
   */
  serialize(payload: PacketPayload): Uint8Array {
    return encodeMsgPack(NOTEPACK, payload);
  }

  /**
   * Decode MessagePack bytes into a payload object.
   *
   * @param data The bytes received.
   * @returns The payload.
   * @throws {InvalidPacketDataError} when the bytes are not exactly one MessagePack map.
   */
  deserialize(data: Uint8Array): PacketPayload {
    return decodeMsgPack(NOTEPACK, data);
  }
}
