/**
 * The JSON serializer: Moleculer's default, byte for byte.
 *
 * A payload is encoded as the UTF-8 bytes of `JSON.stringify(payload)`, exactly as Moleculer's
 * `JSONSerializer` does: keys whose value is `undefined` are dropped, `null` is kept, a `Date`
 * becomes its ISO string and a `BigInt` throws a `TypeError`. Binary is not binary here, in
 * Moleculer either: a `Uint8Array` becomes `{"0":104,"1":105}` (a Node `Buffer` would become
 * `{"type":"Buffer","data":[…]}`); to carry binary, use JSONExt, MsgPack, Notepack or CBOR.
 *
 * @example Round trip
 * ```ts
 * import { JSONSerializer } from "./json.ts";
 *
 * const json = new JSONSerializer();
 * const bytes = json.serialize({ cpu: 2, ver: "5", sender: "node-b" });
 * new TextDecoder().decode(bytes); // '{"cpu":2,"ver":"5","sender":"node-b"}'
 * json.deserialize(bytes); // { cpu: 2, ver: "5", sender: "node-b" }
 * ```
 *
 * @module
 */

import { InvalidPacketDataError } from "../errors.ts";
import type { PacketPayload, Serializer } from "./serializer.ts";
import { decodeUtf8, encodeUtf8, excerpt } from "./utf8.ts";

/**
 * Moleculer's JSON serializer (`serializer: "JSON"`, the default): `JSON.stringify` to UTF-8.
 *
 * Stateless and safe to share between brokers.
 *
 * @example Encode a packet payload
 * ```ts
 * import { JSONSerializer } from "./json.ts";
 *
 * const bytes = new JSONSerializer().serialize({ a: 1, b: undefined, ver: "5", sender: "n1" });
 * new TextDecoder().decode(bytes); // '{"a":1,"ver":"5","sender":"n1"}'
 * ```
 */
export class JSONSerializer implements Serializer {
  /** The Moleculer name of this serializer: `"JSON"`. */
  readonly name: string = "JSON";

  /**
   * Encode a payload as UTF-8 JSON.
   *
   * @param payload The packet payload.
   * @returns The UTF-8 bytes of `JSON.stringify(payload)`.
   * @throws {TypeError} when the payload cannot be encoded (a BigInt or a circular reference).
   */
  serialize(payload: PacketPayload): Uint8Array {
    return encodeUtf8(JSON.stringify(payload));
  }

  /**
   * Decode UTF-8 JSON bytes into a payload object.
   *
   * @param data The bytes received from the transporter.
   * @returns The decoded payload.
   * @throws {InvalidPacketDataError} when the bytes are not UTF-8, not JSON, or not a JSON object.
   */
  deserialize(data: Uint8Array): PacketPayload {
    const text = decodeUtf8(data);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new InvalidPacketDataError({ packet: excerpt(text) }, { cause });
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new InvalidPacketDataError({ packet: value });
    }
    return value as PacketPayload;
  }
}
