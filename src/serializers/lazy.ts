/**
 * A serializer whose implementation is loaded by `import()` when it is first made ready, so a
 * codec library is fetched and evaluated only by the brokers that configure it.
 *
 * @module
 */

import { BrokerOptionsError, MoleculerError } from "../errors.ts";
import { toError } from "../_util/values.ts";
import type { PacketPayload, Serializer } from "./serializer.ts";

/**
 * Loads and makes the real serializer, e.g.
 * `() => import("./msgpack.ts").then((m) => new m.MsgPackSerializer(options))`.
 */
export type SerializerLoader = () => Promise<Serializer>;

/**
 * Stands for a serializer until {@linkcode LazySerializer.init} has loaded it, then hands every
 * packet to it. `resolveSerializer()` returns one for a serializer that pulls a client library;
 * the transit awaits `init()` on connect, as for any serializer.
 *
 * @example
 * ```ts
 * import { LazySerializer } from "./lazy.ts";
 *
 * const lazy = new LazySerializer("JSON", "./json.ts", async () => {
 *   const { JSONSerializer } = await import("./json.ts");
 *   return new JSONSerializer();
 * });
 * console.log(lazy.loaded); // false
 * await lazy.init();
 * console.log(lazy.deserialize(lazy.serialize({ ver: "5", sender: "n1" }))); // { ver: "5", sender: "n1" }
 * ```
 */
export class LazySerializer implements Serializer {
  /** The Moleculer name of the serializer it stands for. */
  readonly name: string;
  /** The package the implementation needs, if any, for the error when it cannot be loaded. */
  readonly library: string | undefined;
  readonly #load: SerializerLoader;
  #loading: Promise<void> | undefined;
  #loaded: Serializer | undefined;

  /**
   * Make a stand-in; nothing is loaded yet.
   *
   * @param name The serializer's Moleculer name, e.g. `"MsgPack"`.
   * @param library The package its implementation imports, e.g. `"npm:cbor-x"`; `undefined`
   *   when it needs none.
   * @param load Imports the implementation and makes the serializer.
   */
  constructor(name: string, library: string | undefined, load: SerializerLoader) {
    this.name = name;
    this.library = library;
    this.#load = load;
  }

  /** True once {@linkcode LazySerializer.init} has loaded the implementation. */
  get loaded(): boolean {
    return this.#loaded !== undefined;
  }

  /**
   * Load the implementation (once; later calls share the first load) and make it ready.
   *
   * @returns When packets can be encoded and decoded.
   * @throws {BrokerOptionsError} when the implementation cannot be loaded (the message names
   *   the package and how to add it) or rejects its options. A failed load is tried again by
   *   the next call.
   */
  init(): Promise<void> {
    this.#loading ??= this.#start().catch((err) => {
      this.#loading = undefined;
      throw err;
    });
    return this.#loading;
  }

  async #start(): Promise<void> {
    let serializer: Serializer;
    try {
      serializer = await this.#load();
    } catch (cause) {
      // Options the implementation refused are already reported by name.
      if (cause instanceof MoleculerError) throw cause;
      const fix = this.library === undefined
        ? "Its module is part of Denolecular: check that the installation is complete, or pick " +
          "another 'serializer'"
        : `It needs the package '${this.library}': add it (deno add ${this.library}) or pick ` +
          "another 'serializer'";
      throw new BrokerOptionsError(
        `Cannot load the ${this.name} serializer: ${toError(cause).message}. ${fix}`,
        { option: "serializer", serializer: this.name, library: this.library },
        { cause },
      );
    }
    await serializer.init?.();
    this.#loaded = serializer;
  }

  /**
   * Encode a payload with the loaded serializer.
   *
   * @param payload The packet payload.
   * @returns Its bytes.
   * @throws {MoleculerError} (`SERIALIZER_NOT_READY`) before {@linkcode LazySerializer.init}
   *   has resolved; else whatever the implementation throws.
   */
  serialize(payload: PacketPayload): Uint8Array {
    return this.#ready().serialize(payload);
  }

  /**
   * Decode bytes with the loaded serializer.
   *
   * @param data The bytes received.
   * @returns The payload.
   * @throws {MoleculerError} (`SERIALIZER_NOT_READY`) before {@linkcode LazySerializer.init}
   *   has resolved; else whatever the implementation throws.
   */
  deserialize(data: Uint8Array): PacketPayload {
    return this.#ready().deserialize(data);
  }

  #ready(): Serializer {
    if (this.#loaded) return this.#loaded;
    throw new MoleculerError(
      `The ${this.name} serializer is not loaded yet: await its init() before the first packet ` +
        "(the transit does it when it connects)",
      500,
      "SERIALIZER_NOT_READY",
      { serializer: this.name },
    );
  }
}
