/**
 * The MsgPack serializer: the bytes of Moleculer's `MsgPack` serializer (msgpack5), written by
 * this module's own codec (`msgpack_codec.ts`) rather than by msgpack5, which builds a list of
 * small buffers per value.
 *
 * A `Uint8Array` anywhere in a payload is MessagePack binary: a Node node reads it as a
 * `Buffer`, and binary from Node arrives here as a `Uint8Array` (a copy). A `Date` travels as
 * the timestamp extension and comes back a `Date`.
 *
 * @example Round trip
 * ```ts
 * import { MsgPackSerializer } from "./msgpack.ts";
 *
 * const msgpack = new MsgPackSerializer();
 * const bytes = msgpack.serialize({ blob: new Uint8Array([1, 2]), ver: "5", sender: "n1" });
 * msgpack.deserialize(bytes); // { blob: Uint8Array(2) [ 1, 2 ], ver: "5", sender: "n1" }
 * ```
 *
 * @module
 */

import { decodeMsgPack, encodeMsgPack, MSGPACK5 } from "./msgpack_codec.ts";
import type { PacketPayload, Serializer } from "./serializer.ts";

/**
 * Moleculer's MessagePack serializer (`serializer: "MsgPack"`), byte for byte as msgpack5 6.x
 * writes it with Moleculer's (default) options. Takes no options; stateless.
 *
 * @example
 * ```ts
 * import { MsgPackSerializer } from "./msgpack.ts";
 *
 * new MsgPackSerializer().serialize({ ver: "5", sender: "n1" }); // Uint8Array [ 130, 163, 118, … ]
 * ```
 */
export class MsgPackSerializer implements Serializer {
  /** The Moleculer name of this serializer: `"MsgPack"`. */
  readonly name: string = "MsgPack";

  /**
   * Encode a payload as msgpack5 does.
   *
   * @param payload The packet payload.
   * @returns Its MessagePack bytes.
   * @throws {TypeError} for what msgpack5 cannot encode either: a BigInt, a symbol, a
   *   function or `undefined` outside an object, a sparse array.
   */
  serialize(payload: PacketPayload): Uint8Array {
    return encodeMsgPack(MSGPACK5, payload);
  }

  /**
   * Decode MessagePack bytes into a payload object.
   *
   * @param data The bytes received.
   * @returns The payload.
   * @throws {InvalidPacketDataError} when the bytes are not exactly one MessagePack map.
   */
  deserialize(data: Uint8Array): PacketPayload {
    return decodeMsgPack(MSGPACK5, data);
  }
}
