/**
 * Turns the broker's `serializer` option into a {@linkcode Serializer}.
 *
 * @example
 * ```ts
 * import { resolveSerializer } from "./resolve.ts";
 *
 * resolveSerializer().name; // "JSON"
 * resolveSerializer("json").name; // "JSON"
 * ```
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import { JSONSerializer } from "./json.ts";
import type { Serializer } from "./serializer.ts";

/** The broker's `serializer` option: an instance, or a serializer name such as `"JSON"`. */
export type SerializerOption = Serializer | string;

/** Factories of the built-in serializers, keyed by lower-case name. */
const BUILT_IN: ReadonlyMap<string, () => Serializer> = new Map([
  ["json", () => new JSONSerializer()],
]);

/** Display names of the built-in serializers, for error messages. */
const SUPPORTED: readonly string[] = ["JSON"];

function isSerializer(value: unknown): value is Serializer {
  return typeof value === "object" && value !== null &&
    typeof (value as Serializer).serialize === "function" &&
    typeof (value as Serializer).deserialize === "function";
}

/**
 * Resolve the `serializer` broker option.
 *
 * @param opt A serializer instance (returned as is), a name (case-insensitive, e.g. `"JSON"`), or
 *   `undefined` for the default, JSON.
 * @returns The serializer to use.
 * @throws {BrokerOptionsError} when the name is unknown or the value is neither a name nor a
 *   serializer; the message lists the supported names.
 *
 * @example Pick a serializer by name
 * ```ts
 * import { resolveSerializer } from "./resolve.ts";
 *
 * const serializer = resolveSerializer("JSON");
 * serializer.serialize({ ver: "5", sender: "node-1" });
 * ```
 */
export function resolveSerializer(opt?: SerializerOption): Serializer {
  if (opt === undefined) return new JSONSerializer();
  if (typeof opt === "string") {
    const make = BUILT_IN.get(opt.trim().toLowerCase());
    if (make) return make();
    throw new BrokerOptionsError(
      `Unknown serializer "${opt}". Supported serializers: ${SUPPORTED.join(", ")}.`,
      { serializer: opt, supported: SUPPORTED },
    );
  }
  if (isSerializer(opt)) return opt;
  throw new BrokerOptionsError(
    `Invalid serializer option: expected a serializer instance or one of ${
      SUPPORTED.join(", ")
    }, got ${describe(opt)}.`,
    { supported: SUPPORTED },
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object without serialize()/deserialize()`;
  return typeof value;
}
