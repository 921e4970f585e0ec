/**
 * The JSONExt serializer of Moleculer 0.15: JSON that keeps the values JSON loses, each written
 * as a string with a `[[XX]]` prefix, exactly as Moleculer's `JSONExtSerializer` writes them:
 *
 * | value | written as |
 * | --- | --- |
 * | `Uint8Array` (Node's `Buffer`) | `"[[BF]]"` + base64 |
 * | `BigInt` | `"[[BI]]"` + decimal digits |
 * | `Date` | `"[[DT]]"` + milliseconds since the epoch |
 * | `Map` | `"[[MP]]"` + the JSONExt text of `Object.fromEntries(map)` |
 * | `Set` | `"[[ST]]"` + the JSONExt text of its values as an array |
 * | `RegExp` | `"[[RE]]"` + flags + `"\|"` + source |
 * | a string that starts with `[[` | `"[[ES]]"` + the string |
 *
 * A Node node reads a `Uint8Array` from here as a `Buffer`; a `Buffer` from Node arrives here
 * as a `Uint8Array`.
 *
 * @example Round trip
 * ```ts
 * import { JSONExtSerializer } from "./json_ext.ts";
 *
 * const json = new JSONExtSerializer();
 * const bytes = json.serialize({ n: 10n, at: new Date(0), ver: "5", sender: "n1" });
 * new TextDecoder().decode(bytes); // '{"n":"[[BI]]10","at":"[[DT]]0","ver":"5","sender":"n1"}'
 * json.deserialize(bytes); // { n: 10n, at: 1970-01-01T00:00:00.000Z, ver: "5", sender: "n1" }
 * ```
 *
 * @module
 */

import { BrokerOptionsError, InvalidPacketDataError } from "../errors.ts";
import type { PacketPayload, Serializer } from "./serializer.ts";
import { decodeUtf8, encodeUtf8, excerpt } from "./utf8.ts";

/** A type of your own, as Moleculer's `JSONExt` option `customs` takes it. */
export interface JSONExtCustomType {
  /** Written between `[[` and `]]` before the value, e.g. `"PT"` for `"[[PT]]…"`. */
  readonly prefix: string;
  /** Whether this type encodes the value. */
  check(value: unknown, key: string, holder: unknown): boolean;
  /** The value as text (after the prefix). */
  serialize(value: unknown, key: string, holder: unknown): string;
  /** The value back from its text. */
  deserialize(text: string, key: string): unknown;
}

/** Options of {@linkcode JSONExtSerializer}: Moleculer's `{ customs }`. */
export interface JSONExtOptions {
  /** Types of your own, tried in order after the built-in ones. */
  readonly customs?: readonly JSONExtCustomType[];
}

const BIGINT = "[[BI]]";
const MAP = "[[MP]]";
const SET = "[[ST]]";
const DATE = "[[DT]]";
const BUFFER = "[[BF]]";
const REGEXP = "[[RE]]";
const ESCAPED = "[[ES]]";

// `Uint8Array.fromBase64` / `toBase64` (TC39 stage 4) are in Deno's V8; not yet in TS's lib.
interface Base64Bytes {
  toBase64(): string;
}
const Base64Array = Uint8Array as unknown as {
  fromBase64(text: string): Uint8Array;
};

/**
 * Moleculer 0.15's JSON Extended serializer (`serializer: "JSONExt"`), byte for byte.
 *
 * @example Binary and a type of your own
 * ```ts
 * import { JSONExtSerializer } from "./json_ext.ts";
 *
 * class Point {
 *   constructor(readonly x: number, readonly y: number) {}
 * }
 * const json = new JSONExtSerializer({
 *   customs: [{
 *     prefix: "PT",
 *     check: (v) => v instanceof Point,
 *     serialize: (v) => `${(v as Point).x},${(v as Point).y}`,
 *     deserialize: (text) => new Point(...(text.split(",").map(Number) as [number, number])),
 *   }],
 * });
 * const back = json.deserialize(json.serialize({ p: new Point(1, 2), b: new Uint8Array([1]) }));
 * back.p instanceof Point; // true
 * ```
 */
export class JSONExtSerializer implements Serializer {
  /** The Moleculer name of this serializer: `"JSONExt"`. */
  readonly name: string = "JSONExt";
  readonly #customs: readonly JSONExtCustomType[];
  readonly #replacer: (this: unknown, key: string, value: unknown) => unknown;
  readonly #reviver: (key: string, value: unknown) => unknown;

  /**
   * Make the serializer.
   *
   * @param options Moleculer's options: `customs`, types of your own.
   * @throws {BrokerOptionsError} for an unknown option or a malformed custom type.
   */
  constructor(options: JSONExtOptions = {}) {
    for (const key of Object.keys(options)) {
      if (key !== "customs") {
        throw new BrokerOptionsError(
          `Unknown broker option 'serializer.options.${key}': the JSONExt serializer takes ` +
            "'customs' only",
          { option: `serializer.options.${key}` },
        );
      }
    }
    const customs = options.customs ?? [];
    if (!Array.isArray(customs)) {
      throw new BrokerOptionsError(
        "Option 'serializer.options.customs' must be an array of { prefix, check, serialize, " +
          "deserialize }",
        { option: "serializer.options.customs" },
      );
    }
    customs.forEach((custom: Partial<JSONExtCustomType>, i) => {
      const ok = typeof custom?.prefix === "string" &&
        typeof custom.check === "function" &&
        typeof custom.serialize === "function" &&
        typeof custom.deserialize === "function";
      if (!ok) {
        throw new BrokerOptionsError(
          `Option 'serializer.options.customs[${i}]' must be { prefix: string, check(), ` +
            "serialize(), deserialize() }",
          { option: `serializer.options.customs[${i}]` },
        );
      }
    });
    this.#customs = customs;
    // JSON.stringify hands the holder of each value as `this`: a function, not an arrow.
    const replace = (holder: unknown, key: string, value: unknown) =>
      this.#replace(holder as Record<string, unknown>, key, value);
    this.#replacer = function (this: unknown, key, value) {
      return replace(this, key, value);
    };
    this.#reviver = (key, value) => this.#revive(key, value);
  }

  /**
   * Encode a payload as Moleculer's JSONExt does.
   *
   * @param payload The packet payload.
   * @returns The UTF-8 bytes of its extended JSON.
   * @throws {TypeError} when the payload has a circular reference.
   */
  serialize(payload: PacketPayload): Uint8Array {
    return encodeUtf8(this.#stringify(payload));
  }

  /**
   * Decode extended JSON bytes into a payload object.
   *
   * @param data The bytes received.
   * @returns The payload, its `[[XX]]` strings turned back into values.
   * @throws {InvalidPacketDataError} when the bytes are not UTF-8 JSON of an object, or a
   *   prefixed string does not decode.
   */
  deserialize(data: Uint8Array): PacketPayload {
    const text = decodeUtf8(data);
    let value: unknown;
    try {
      value = this.#parse(text);
    } catch (cause) {
      throw new InvalidPacketDataError({ packet: excerpt(text) }, { cause });
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new InvalidPacketDataError({ packet: value });
    }
    return value as PacketPayload;
  }

  #stringify(value: unknown): string {
    return JSON.stringify(
      value,
      this.#replacer as (key: string, value: unknown) => unknown,
    );
  }

  #parse(text: string): unknown {
    return JSON.parse(text, this.#reviver);
  }

  /** Moleculer's replacer: `value` has been through `toJSON()`, `holder[key]` has not. */
  #replace(
    holder: Record<string, unknown>,
    key: string,
    value: unknown,
  ): unknown {
    if (value == null) return value;
    const v = holder[key];
    if (typeof v === "bigint") return BIGINT + v;
    if (typeof v === "object" && v !== null) {
      if (v instanceof Date) return DATE + v.valueOf();
      if (v instanceof Map) return MAP + this.#stringify(Object.fromEntries(v));
      if (v instanceof Set) return SET + this.#stringify(Array.from(v));
      if (v instanceof RegExp) return REGEXP + v.flags + "|" + v.source;
      if (v instanceof Uint8Array) {
        return BUFFER + (v as unknown as Base64Bytes).toBase64();
      }
    }
    for (const custom of this.#customs) {
      if (custom.check(v, key, holder)) {
        return "[[" + custom.prefix + "]]" + custom.serialize(v, key, holder);
      }
    }
    if (
      typeof value === "string" && value.charCodeAt(0) === 91 &&
      value.charCodeAt(1) === 91
    ) {
      return ESCAPED + value;
    }
    return value;
  }

  /** Moleculer's reviver. */
  #revive(key: string, value: unknown): unknown {
    if (
      typeof value !== "string" || value.charCodeAt(0) !== 91 ||
      value.charCodeAt(1) !== 91
    ) {
      return value;
    }
    switch (value.slice(0, 6)) {
      case BIGINT:
        return BigInt(value.slice(6));
      case DATE:
        return new Date(Number(value.slice(6)));
      case MAP:
        return new Map(
          Object.entries(
            this.#parse(value.slice(6)) as Record<string, unknown>,
          ),
        );
      case SET:
        return new Set(this.#parse(value.slice(6)) as unknown[]);
      case BUFFER:
        return Base64Array.fromBase64(value.slice(6));
      case REGEXP: {
        const parts = value.slice(6).split("|");
        const flags = parts.shift();
        return new RegExp(parts.join("|"), flags);
      }
      case ESCAPED:
        return value.slice(6);
    }
    for (const custom of this.#customs) {
      if (value.startsWith("[[" + custom.prefix + "]]")) {
        return custom.deserialize(value.slice(custom.prefix.length + 4), key);
      }
    }
    return value;
  }
}
