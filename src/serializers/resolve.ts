/**
 * Turns the broker's `serializer` option into a {@linkcode Serializer}.
 *
 * Every serializer has an entry in a table saying how its implementation loads: with this
 * module (`make`), or by `import()` when a broker first makes it ready (`load`, for one that
 * pulls a codec library — a broker configured for JSON never fetches cbor-x). A lazily loaded
 * serializer is a {@linkcode LazySerializer}: the transit awaits its `init()` on connect.
 *
 * @example
 * ```ts
 * import { resolveSerializer } from "./resolve.ts";
 *
 * resolveSerializer().name; // "JSON"
 * resolveSerializer("json").name; // "JSON"
 * resolveSerializer({ type: "JSON" }).name; // "JSON"
 * ```
 *
 * @module
 */

import { BrokerOptionsError, MoleculerError } from "../errors.ts";
import { isRecord, toError } from "../_util/values.ts";
import { JSONSerializer } from "./json.ts";
import { LazySerializer } from "./lazy.ts";
import type { Serializer } from "./serializer.ts";

/** Options of a serializer, as in `{ type, options }`. */
export type SerializerOptions = Readonly<Record<string, unknown>>;

/** A serializer with options, as in a `moleculer.config.js`: `{ type: "JSON" }`. */
export interface SerializerConfig {
  /** The serializer's Moleculer name, in any letter case. */
  readonly type: string;
  /** Its options, if it takes any. */
  readonly options?: SerializerOptions;
}

/**
 * The broker's `serializer` option: an instance, a serializer name such as `"JSON"` (any letter
 * case), or `{ type, options }`.
 */
export type SerializerOption = Serializer | string | SerializerConfig;

/** Makes a serializer from the `options` of `{ type, options }` (undefined when none). */
export type SerializerMaker = (
  options: SerializerOptions | undefined,
) => Serializer;

/**
 * One serializer of the table and how its implementation loads: `make` when it ships with this
 * module, or `load` (an `import()` of its file) plus the `library` it pulls, if any, for the
 * error when that cannot be loaded.
 */
export type SerializerEntry =
  | { readonly name: string; readonly make: SerializerMaker }
  | {
    readonly name: string;
    readonly library?: string;
    readonly load: () => Promise<SerializerMaker>;
  };

/**
 * The built-in serializers, the first one the default, with Moleculer's names. JSON ships with
 * this module; the others are loaded by `import()` when a broker configured for one connects,
 * so a broker on JSON never fetches them (nor cbor-x).
 */
export const BUILT_IN_SERIALIZERS: readonly SerializerEntry[] = [
  {
    name: "JSON",
    make: (options) => {
      noOptions("JSON", options);
      return new JSONSerializer();
    },
  },
  {
    name: "JSONExt",
    load: () =>
      import("./json_ext.ts").then((m) => (options) =>
        new m.JSONExtSerializer(
          options as ConstructorParameters<typeof m.JSONExtSerializer>[0],
        )
      ),
  },
  {
    name: "MsgPack",
    load: () =>
      import("./msgpack.ts").then((m) => (options) => {
        noOptions("MsgPack", options);
        return new m.MsgPackSerializer();
      }),
  },
  {
    name: "Notepack",
    load: () =>
      import("./notepack.ts").then((m) => (options) => {
        noOptions("Notepack", options);
        return new m.NotepackSerializer();
      }),
  },
  {
    name: "CBOR",
    library: "npm:cbor-x",
    load: () => import("./cbor.ts").then((m) => (options) => new m.CborSerializer(options)),
  },
];

/** For a serializer without options (Moleculer's JSON, MsgPack, Notepack): naming one is refused. */
function noOptions(name: string, options: SerializerOptions | undefined): void {
  const keys = Object.keys(options ?? {});
  if (keys.length > 0) {
    throw new BrokerOptionsError(
      `Unknown broker option 'serializer.options.${keys[0]}': the ${name} serializer takes no ` +
        "options",
      { option: `serializer.options.${keys[0]}` },
    );
  }
}

function isSerializer(value: unknown): value is Serializer {
  return typeof value === "object" && value !== null &&
    typeof (value as Serializer).serialize === "function" &&
    typeof (value as Serializer).deserialize === "function";
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") {
    return `an object without serialize()/deserialize()`;
  }
  return typeof value;
}

/**
 * Resolve a `serializer` option against a table of serializers. {@linkcode resolveSerializer}
 * uses the built-in table; a test may hand it another.
 *
 * @param entries The serializers known by name.
 * @param opt An instance (returned as is), a name, `{ type, options }`, or `undefined` for the
 *   first entry.
 * @returns The serializer; a {@linkcode LazySerializer} for a `load` entry, to be made ready
 *   with `await serializer.init()`.
 * @throws {BrokerOptionsError} for an unknown name (the message lists the supported ones), a
 *   malformed `{ type, options }`, or options the serializer refuses.
 */
export function resolveSerializerIn(
  entries: readonly SerializerEntry[],
  opt?: SerializerOption,
): Serializer {
  const supported = entries.map((entry) => entry.name);
  const find = (name: string): SerializerEntry => {
    const lower = name.trim().toLowerCase();
    const found = entries.find((entry) => entry.name.toLowerCase() === lower);
    if (found) return found;
    throw new BrokerOptionsError(
      `Unknown serializer "${name}". Supported serializers: ${supported.join(", ")}.`,
      { serializer: name, supported },
    );
  };
  if (opt === undefined) return make(entries[0]!, undefined);
  if (typeof opt === "string") return make(find(opt), undefined);
  if (isSerializer(opt)) return opt;
  if (isRecord(opt) && typeof opt.type === "string") {
    for (const key of Object.keys(opt)) {
      if (key !== "type" && key !== "options") {
        throw new BrokerOptionsError(
          `Unknown broker option 'serializer.${key}'. A serializer with options is written ` +
            `{ type: ${supported.map((n) => `"${n}"`).join(" | ")}, options }`,
          { option: `serializer.${key}` },
        );
      }
    }
    const options = opt.options;
    if (options !== undefined && !isRecord(options)) {
      throw new BrokerOptionsError(
        "Option 'serializer.options' must be an object",
        {
          option: "serializer.options",
        },
      );
    }
    return make(find(opt.type), options);
  }
  throw new BrokerOptionsError(
    `Invalid serializer option: expected a serializer instance, { type, options } or one of ${
      supported.join(", ")
    }, got ${describe(opt)}.`,
    { supported },
  );
}

function make(
  entry: SerializerEntry,
  options: SerializerOptions | undefined,
): Serializer {
  if ("make" in entry) return build(entry.name, entry.make, options);
  return new LazySerializer(
    entry.name,
    entry.library,
    () => entry.load().then((maker) => build(entry.name, maker, options)),
  );
}

/** Make a serializer; what its constructor throws is reported as a refused option. */
function build(
  name: string,
  maker: SerializerMaker,
  options: SerializerOptions | undefined,
): Serializer {
  try {
    return maker(options);
  } catch (err) {
    if (err instanceof MoleculerError) throw err;
    throw new BrokerOptionsError(
      `Option 'serializer.options' is refused by the ${name} serializer: ${toError(err).message}`,
      { option: "serializer.options", serializer: name },
      { cause: err },
    );
  }
}

/**
 * Resolve the `serializer` broker option.
 *
 * @param opt A serializer instance (returned as is), a name (case-insensitive, e.g. `"JSON"`),
 *   `{ type, options }`, or `undefined` for the default, JSON.
 * @returns The serializer to use. Await its `init()` (when it has one) before the first packet:
 *   a serializer that pulls a codec library loads it then.
 * @throws {BrokerOptionsError} when the name is unknown or the value is neither a name, a
 *   config nor a serializer; the message lists the supported names.
 *
 * @example Pick a serializer by name
 * ```ts
 * import { resolveSerializer } from "./resolve.ts";
 *
 * const serializer = resolveSerializer("JSON");
 * await serializer.init?.();
 * serializer.serialize({ ver: "5", sender: "node-1" });
 * ```
 */
export function resolveSerializer(opt?: SerializerOption): Serializer {
  return resolveSerializerIn(BUILT_IN_SERIALIZERS, opt);
}
