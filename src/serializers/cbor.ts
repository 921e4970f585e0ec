/**
 * The CBOR serializer: Moleculer's `CBOR` serializer, with the library Moleculer uses, cbor-x,
 * and Moleculer's options (`useRecords: false, useTag259ForMaps: false`), so the bytes are the
 * same for the same values.
 *
 * Two options differ, for Deno: a `Uint8Array` is written as a plain CBOR byte string
 * (`tagUint8Array: false`), which is how cbor-x in Node writes a `Buffer`, so a Node node reads
 * it as a `Buffer` (cbor-x in Node would tag a bare `Uint8Array` 64); and a byte string is
 * decoded into a copy (`copyBuffers: true`), so the payload keeps no hold on the packet's bytes.
 *
 * This module is loaded by `import()` only by a broker configured for CBOR.
 *
 * @example Round trip
 * ```ts
 * import { CborSerializer } from "./cbor.ts";
 *
 * const cbor = new CborSerializer();
 * const bytes = cbor.serialize({ blob: new Uint8Array([1, 2]), ver: "5", sender: "n1" });
 * cbor.deserialize(bytes); // { blob: Uint8Array(2) [ 1, 2 ], ver: "5", sender: "n1" }
 * ```
 *
 * @module
 */

// cbor-x names cbor-extract (a native helper for Node) as an optional dependency, and some
// platform builds of cbor-extract 2.2.3 do not resolve, which fails the whole import. Importing
// a file of cbor-extract first resolves it at the version pinned in deno.json (2.2.2, whose
// builds all resolve; cbor-x 1.6.8 accepts it), and cbor-x shares it. The helper itself is
// never loaded: "cbor-x/encode" is cbor-x's pure JavaScript build (no native code, no FFI).
import _cborExtract from "cbor-extract/package.json" with { type: "json" };
import { Encoder, type Options } from "cbor-x/encode";
import { InvalidPacketDataError } from "../errors.ts";
import type { PacketPayload, Serializer } from "./serializer.ts";

/** Options of {@linkcode CborSerializer}: cbor-x's `Options`, as Moleculer passes them on. */
export type CborOptions = Readonly<Record<string, unknown>>;

/** Moleculer's defaults, then the two this side needs (see the module doc). */
const DEFAULTS: CborOptions = {
  useRecords: false,
  useTag259ForMaps: false,
  tagUint8Array: false,
  copyBuffers: true,
};

void _cborExtract;

/**
 * Moleculer's CBOR serializer (`serializer: "CBOR"` or `{ type: "CBOR", options }`), backed
 * by cbor-x.
 *
 * @example Options go to cbor-x, over Moleculer's defaults
 * ```ts
 * import { CborSerializer } from "./cbor.ts";
 *
 * const cbor = new CborSerializer({ useFloat32: 0 });
 * cbor.deserialize(cbor.serialize({ x: 1.5, ver: "5", sender: "n1" })); // { x: 1.5, … }
 * ```
 */
export class CborSerializer implements Serializer {
  /** The Moleculer name of this serializer: `"CBOR"`. */
  readonly name: string = "CBOR";
  readonly #encoder: Encoder;

  /**
   * Make the serializer.
   *
   * @param options cbor-x options, laid over Moleculer's defaults.
   */
  constructor(options: CborOptions = {}) {
    this.#encoder = new Encoder({ ...DEFAULTS, ...options } as Options);
  }

  /**
   * Encode a payload as Moleculer's CBOR serializer does.
   *
   * @param payload The packet payload.
   * @returns Its CBOR bytes (a slice cbor-x does not write again).
   * @throws {Error} for what cbor-x cannot encode (a circular reference, a symbol).
   */
  serialize(payload: PacketPayload): Uint8Array {
    const bytes = this.#encoder.encode(payload);
    // cbor-x hands out a Node Buffer where one exists: show a plain Uint8Array of the same bytes.
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Decode CBOR bytes into a payload object.
   *
   * @param data The bytes received.
   * @returns The payload.
   * @throws {InvalidPacketDataError} when the bytes are not one CBOR map.
   */
  deserialize(data: Uint8Array): PacketPayload {
    let value: unknown;
    try {
      value = this.#encoder.decode(data);
    } catch (cause) {
      throw new InvalidPacketDataError({ packet: data.subarray(0, 256) }, {
        cause,
      });
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new InvalidPacketDataError({ packet: value });
    }
    return value as PacketPayload;
  }
}
