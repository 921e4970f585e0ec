/**
 * The serializer contract: packet payload objects to bytes and back.
 *
 * @module
 */

/** A packet payload as it travels: a plain object with `ver` and `sender` added by transit. */
export type PacketPayload = Record<string, unknown>;

/**
 * Turns packet payloads into bytes and back. Must be byte-compatible with the
 * Moleculer serializer of the same name.
 */
export interface Serializer {
  /** The Moleculer name of this serializer, e.g. `"JSON"`. */
  readonly name: string;
  /**
   * Encode a payload.
   *
   * @throws {TypeError} when the payload cannot be encoded (e.g. a BigInt under JSON).
   */
  serialize(payload: PacketPayload): Uint8Array;
  /**
   * Decode bytes into a payload object.
   *
   * @throws {InvalidPacketDataError} when the bytes are not a valid payload object.
   */
  deserialize(data: Uint8Array): PacketPayload;
}
