/**
 * Broker options for the CLI: the config file, the merge of its layers (flag > env > config >
 * default) with the origin of every value, secret masking and `--print-config` output.
 *
 * @module
 */

import { isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrokerOptions } from "../broker/options.ts";
import { envOverlay, isPlainObject } from "./env.ts";
import { reasonOf, StartError, UsageError } from "./errors.ts";

/** Config file names looked for in the current directory, in this order. */
export const CONFIG_FILE_NAMES: readonly string[] = [
  "denolecular.config.ts",
  "denolecular.config.js",
  "denolecular.config.mjs",
  "denolecular.config.json",
];

/** Where an option value came from. */
export type Origin = "flag" | "env" | "config" | "default";

/** The origin of one option value and what set it (a flag, a variable or a file). */
export interface OptionSource {
  /** The layer. */
  readonly origin: Origin;
  /** The flag (`--transporter`), variable (`TRANSPORTER`) or file; empty for defaults. */
  readonly detail: string;
}

/** What a config file's function export receives, as argument and as `this`. */
export interface ConfigContext {
  /** The current directory. */
  readonly cwd: string;
  /** The service paths given on the command line. */
  readonly paths: readonly string[];
  /** The environment (after `--env-file`). */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Find the config file: the given path (resolved from `cwd`), or the first of
 * {@linkcode CONFIG_FILE_NAMES} in `cwd`.
 *
 * @param cwd The current directory.
 * @param given The `--config` value, if any.
 * @returns The absolute path, or undefined when none is given and none exists.
 * @throws {UsageError} when a given file does not exist.
 */
export async function findConfigFile(
  cwd: string,
  given?: string,
): Promise<string | undefined> {
  if (given !== undefined) {
    const path = isAbsolute(given) ? given : resolve(cwd, given);
    const info = await Deno.stat(path).catch(() => null);
    if (!info?.isFile) throw new UsageError(`config file not found: ${given}`);
    return path;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const path = join(cwd, name);
    const info = await Deno.stat(path).catch(() => null);
    if (info?.isFile) return path;
  }
  return undefined;
}

/**
 * Load a config file: JSON, or a module whose `default` export is the options object or a
 * (possibly async) function returning it, called with a {@linkcode ConfigContext}.
 *
 * @param path Absolute path of the file.
 * @param context Passed to a function export.
 * @returns The options the file sets.
 * @throws {StartError} when the file cannot be read, parsed or imported, or its function throws.
 * @throws {UsageError} when it has no default export or it is not an object.
 */
export async function loadConfigFile(
  path: string,
  context: ConfigContext,
): Promise<BrokerOptions> {
  const shown = relative(context.cwd, path) || path;
  let value: unknown;
  try {
    if (path.endsWith(".json")) {
      value = JSON.parse(await Deno.readTextFile(path));
    } else {
      const mod = await import(pathToFileURL(path).href);
      if (!("default" in mod)) {
        throw new UsageError(
          `config file ${shown} has no default export: write \`export default { ... }\``,
        );
      }
      value = mod.default;
      if (typeof value === "function") {
        value = await value.call(context, context);
      }
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    let reason = reasonOf(err);
    if (Deno.build.standalone && /Module not found/.test(reason)) {
      reason += " (a compiled binary cannot import files from disk: use a .json config)";
    }
    throw new StartError(`cannot load config file ${shown}: ${reason}`, {
      cause: err,
    });
  }
  if (!isPlainObject(value)) {
    throw new UsageError(
      `config file ${shown} must export an options object (or a function returning one)`,
    );
  }
  return value as BrokerOptions;
}

/** One option set by a flag. */
export interface FlagAssignment {
  /** Option path, e.g. `["transporter"]`. */
  readonly path: string[];
  /** The value. */
  readonly value: unknown;
  /** The flag, e.g. `--transporter`. */
  readonly flag: string;
}

/** The layers to merge, lowest first. */
export interface OptionLayers {
  /** Every option with its default value. */
  readonly defaults: Record<string, unknown>;
  /** Options from the config file. */
  readonly config?: Record<string, unknown> | undefined;
  /** The config file's name, for origins. */
  readonly configName?: string | undefined;
  /** Environment variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Options from flags. */
  readonly flags: readonly FlagAssignment[];
}

/** Options after merging, with the source of every leaf value. */
export interface MergedOptions {
  /** The merged options (defaults included). */
  readonly options: Record<string, unknown>;
  /** Source of every leaf, keyed by dotted path. */
  readonly sources: ReadonlyMap<string, OptionSource>;
  /** Environment variables that were ignored, with reasons. */
  readonly ignoredEnv: readonly string[];
}

class Merger {
  readonly options: Record<string, unknown> = {};
  readonly sources: Map<string, OptionSource> = new Map();

  set(path: readonly string[], value: unknown, source: OptionSource): void {
    const key = path.join(".");
    let obj = this.options;
    for (const [i, segment] of path.slice(0, -1).entries()) {
      const prefix = path.slice(0, i + 1).join(".");
      if (!isPlainObject(obj[segment])) obj[segment] = {};
      this.sources.delete(prefix);
      obj = obj[segment] as Record<string, unknown>;
    }
    for (const k of [...this.sources.keys()]) {
      if (k === key || k.startsWith(`${key}.`)) this.sources.delete(k);
    }
    const last = path[path.length - 1]!;
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      obj[last] = {};
      for (const [k, v] of Object.entries(value)) {
        this.set([...path, k], v, source);
      }
    } else {
      obj[last] = isPlainObject(value) ? {} : value;
      this.sources.set(key, source);
    }
  }

  merge(
    value: Record<string, unknown>,
    source: OptionSource,
    prefix: string[] = [],
  ): void {
    for (const [k, v] of Object.entries(value)) {
      const path = [...prefix, k];
      let current: unknown = this.options;
      for (const p of path) {
        current = isPlainObject(current) ? current[p] : undefined;
      }
      if (
        isPlainObject(v) && isPlainObject(current) && Object.keys(v).length > 0
      ) {
        this.merge(v, source, path);
      } else {
        this.set(path, v, source);
      }
    }
  }
}

/**
 * Merge option layers: default < config < env < flag, deeply for plain objects (`registry`,
 * `transit`, `metadata`); other values (arrays, instances, functions) replace whole.
 *
 * @param layers The layers.
 * @returns The merged options and where each value came from.
 *
 * @example
 * ```ts
 * import { mergeOptions } from "./config.ts";
 *
 * const merged = mergeOptions({
 *   defaults: { nodeID: "node-app", transporter: null, requestTimeout: 0 },
 *   config: { requestTimeout: 5000 },
 *   configName: "denolecular.config.ts",
 *   env: { TRANSPORTER: "nats://127.0.0.1:4222" },
 *   flags: [{ path: ["nodeID"], value: "api-1", flag: "--broker-id" }],
 * });
 * merged.sources.get("requestTimeout"); // { origin: "config", detail: "denolecular.config.ts" }
 * ```
 */
export function mergeOptions(layers: OptionLayers): MergedOptions {
  const m = new Merger();
  m.merge(layers.defaults, { origin: "default", detail: "" });
  if (layers.config) {
    m.merge(layers.config, {
      origin: "config",
      detail: layers.configName ?? "",
    });
  }
  const roots = new Set(Object.keys(layers.defaults));
  const overlay = envOverlay(m.options, layers.env, roots);
  for (const a of overlay.assignments) {
    m.set(a.path, a.value, { origin: "env", detail: a.variable });
  }
  for (const f of layers.flags) {
    m.set(f.path, f.value, { origin: "flag", detail: f.flag });
  }
  return {
    options: m.options,
    sources: m.sources,
    ignoredEnv: overlay.ignored,
  };
}

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^@/\s,]+)@/gi;
const SECRET_KEY = /^(pass|passwd|password|token|secret|nkey|jwt|credentials|apikey|api_key)$/i;

/**
 * Hide credentials in URLs: `nats://user:secret@host` → `nats://user:***@host`,
 * `nats://token@host` → `nats://***@host`.
 *
 * @param text Text holding URLs (a comma-separated list is fine).
 * @returns The text with the secrets replaced by `***`.
 */
export function maskSecrets(text: string): string {
  return text.replace(URL_CREDENTIALS, (_all, scheme: string, auth: string) => {
    const colon = auth.indexOf(":");
    return colon >= 0 ? `${scheme}${auth.slice(0, colon)}:***@` : `${scheme}***@`;
  });
}

/**
 * Show an option value on one line, secrets masked: JSON for data, `[Name]` for class
 * instances and functions.
 *
 * @param value The value.
 * @param key The option's last key (values of `pass`, `token` … keys are masked whole).
 * @returns The text.
 */
export function showValue(value: unknown, key = ""): string {
  if (typeof value === "string" && SECRET_KEY.test(key) && value !== "") {
    return '"***"';
  }
  if (value === undefined) return "undefined";
  if (typeof value === "function") {
    return `[Function ${value.name || "anonymous"}]`;
  }
  if (Array.isArray(value)) {
    if (
      value.every((v) => isPlainObject(v) || v === null || typeof v !== "object")
    ) {
      try {
        return maskSecrets(JSON.stringify(value));
      } catch { /* fall through */ }
    }
    return `[${value.map((v) => showValue(v)).join(", ")}]`;
  }
  if (typeof value === "object" && value !== null && !isPlainObject(value)) {
    const name = (value as { name?: unknown }).name;
    const ctor = (value as object).constructor?.name ?? "Object";
    return typeof name === "string" && name !== "" && name !== ctor
      ? `[${ctor} ${name}]`
      : `[${ctor}]`;
  }
  try {
    return maskSecrets(JSON.stringify(value)) ?? String(value);
  } catch {
    return String(value);
  }
}

/** One row of {@linkcode formatConfig}. */
export interface ConfigRow {
  /** Dotted option path. */
  readonly key: string;
  /** The value as shown. */
  readonly value: string;
  /** Where it came from, e.g. `flag --transporter`. */
  readonly from: string;
}

/**
 * The rows of `--print-config`: every leaf option, its value (secrets masked) and its source.
 *
 * @param merged The merged options.
 * @returns Rows sorted as the options are declared.
 */
export function configRows(merged: MergedOptions): ConfigRow[] {
  const rows: ConfigRow[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string[]) => {
    for (const [k, v] of Object.entries(obj)) {
      const path = [...prefix, k];
      const key = path.join(".");
      const source = merged.sources.get(key);
      if (source === undefined && isPlainObject(v)) {
        walk(v, path);
        continue;
      }
      const from = source
        ? `${source.origin}${source.detail ? ` ${source.detail}` : ""}`
        : "default";
      rows.push({ key, value: showValue(v, k), from });
    }
  };
  walk(merged.options, []);
  return rows;
}

/**
 * Format rows as an aligned table (`key  value  source`).
 *
 * @param rows The rows.
 * @returns The table, one row a line, without a trailing newline.
 */
export function formatRows(rows: readonly ConfigRow[]): string {
  const kw = Math.max(...rows.map((r) => r.key.length), 3);
  const vw = Math.min(Math.max(...rows.map((r) => r.value.length), 5), 48);
  return rows.map((r) => `${r.key.padEnd(kw)}  ${r.value.padEnd(vw)}  ${r.from}`).join("\n");
}
