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
 *
 * A serializer that needs a codec library loads it in {@linkcode Serializer.init}, as
 * Moleculer's serializers load theirs in `init(broker)`: the broker resolves its serializer
 * synchronously in its constructor, and the transit awaits `init()` when it connects, before
 * the first packet is encoded or decoded.
 */
export interface Serializer {
  /** The Moleculer name of this serializer, e.g. `"JSON"`. */
  readonly name: string;
  /**
   * Get ready to encode and decode: load the codec library. Optional; a serializer without one
   * is ready at once. It is called again on every connect, so after the first success it must
   * resolve at once.
   *
   * @throws {BrokerOptionsError} when the library cannot be loaded or rejects the options;
   *   the message names the package and how to add it.
   */
  init?(): void | Promise<void>;
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
