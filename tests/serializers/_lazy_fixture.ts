/**
 * A serializer module that is only ever loaded by `import()`, for the tests of lazy loading.
 * Evaluating it counts a load on `globalThis`, so a test can tell whether resolving a
 * serializer fetched its implementation (it must not) and whether `init()` did (once).
 *
 * The serializer is JSON behind a one-byte frame tag (its one option): small, but a real codec
 * that must refuse bytes it did not write.
 *
 * @module
 */

import { InvalidPacketDataError } from "../../src/errors.ts";
import { JSONSerializer } from "../../src/serializers/json.ts";
import type { PacketPayload, Serializer } from "../../src/serializers/serializer.ts";

/** Where the module's evaluations and the serializers' `init()` calls are counted. */
export const COUNTS: unique symbol = Symbol.for("denolecular.test.lazySerializer");

interface Counts {
  loads: number;
  inits: number;
}

const counts = ((globalThis as Record<symbol, Counts>)[COUNTS] ??= { loads: 0, inits: 0 });
counts.loads++;

/** Options of {@linkcode TaggedJSONSerializer}. */
export interface TaggedJSONOptions {
  /** The byte every packet starts with. @default {0x7a} */
  tag?: number;
}

/** JSON with a leading tag byte. */
export class TaggedJSONSerializer implements Serializer {
  readonly name = "TaggedJSON";
  readonly tag: number;
  readonly #json = new JSONSerializer();
  #ready = false;

  constructor(options: TaggedJSONOptions = {}) {
    const tag = options.tag ?? 0x7a;
    if (!Number.isInteger(tag) || tag < 0 || tag > 255) {
      throw new TypeError(`tag must be a byte, got ${tag}`);
    }
    this.tag = tag;
  }

  init(): void {
    counts.inits++;
    this.#ready = true;
  }

  serialize(payload: PacketPayload): Uint8Array {
    if (!this.#ready) throw new Error("TaggedJSON used before init()");
    const body = this.#json.serialize(payload);
    const out = new Uint8Array(body.length + 1);
    out[0] = this.tag;
    out.set(body, 1);
    return out;
  }

  deserialize(data: Uint8Array): PacketPayload {
    if (!this.#ready) throw new Error("TaggedJSON used before init()");
    if (data[0] !== this.tag) {
      throw new InvalidPacketDataError({ packet: data.subarray(0, 16) });
    }
    return this.#json.deserialize(data.subarray(1));
  }
}
