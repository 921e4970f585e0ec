/**
 * The environment overlay of broker options, with Moleculer's grammar:
 *
 * - every option key that exists (a default or a config value) may be set by its path in
 *   UPPER_SNAKE with `_` between levels: `NODEID`, `TRANSPORTER`, `REQUESTTIMEOUT`,
 *   `REGISTRY_PREFERLOCAL=false`, `TRANSIT_MAXQUEUESIZE=100`;
 * - `MOL_` variables may set any key: `__` separates levels and `_` starts a camelCase word
 *   (`MOL_TRANSIT__MAX_QUEUE_SIZE=100` → `transit.maxQueueSize`, `MOL_METADATA__REGION=eu` →
 *   `metadata.region`); known keys are matched case-insensitively, so `MOL_NODE_ID` sets `nodeID`;
 * - values `"true"`/`"false"` become booleans and numeric values numbers, except where the
 *   option holds a string (`NODEID=42` stays `"42"`).
 *
 * @module
 */

/** One option set from the environment. */
export interface EnvAssignment {
  /** Option path, e.g. `["registry", "preferLocal"]`. */
  readonly path: string[];
  /** The normalised value. */
  readonly value: unknown;
  /** The variable that set it. */
  readonly variable: string;
}

/** What {@linkcode envOverlay} found. */
export interface EnvOverlay {
  /** Options to set, in order (later wins). */
  readonly assignments: EnvAssignment[];
  /** `MOL_` variables naming an option that does not exist, with the reason. */
  readonly ignored: string[];
}

/**
 * Whether a value is a plain object (not an array, class instance or function).
 *
 * @param value Anything.
 * @returns True for `{}`-like objects.
 */
export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isScalar(value: unknown): boolean {
  return value === null || value === undefined || typeof value === "string" ||
    typeof value === "number" || typeof value === "boolean";
}

/**
 * Turn an environment string into an option value, guided by the option's current value.
 *
 * @param raw The variable's value.
 * @param current The option's current value, if any: a string keeps `raw` as is; a boolean or
 *   number takes the parsed value when `raw` parses.
 * @returns `true`/`false` for `"true"`/`"false"` (any case), a number for a numeric string,
 *   else `raw`.
 */
export function normaliseEnvValue(raw: string, current?: unknown): unknown {
  if (typeof current === "string") return raw;
  const lower = raw.trim().toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  if (raw.trim() !== "" && !Number.isNaN(Number(raw))) return Number(raw);
  return raw;
}

function camel(segment: string): string {
  return segment.toLowerCase().split("_").filter((s) => s !== "").map((s, i) =>
    i === 0 ? s : s[0]!.toUpperCase() + s.slice(1)
  ).join("");
}

/**
 * Compute the options the environment sets over `base` (defaults merged with the config file).
 *
 * @param base The options so far; its keys decide which UPPER_SNAKE variables are read.
 * @param env The environment variables.
 * @param rootKeys The top-level option names a `MOL_` variable may set; others are ignored
 *   (Moleculer options this broker does not have, like `MOL_TRACING`).
 * @returns The assignments in application order and the ignored variables.
 *
 * @example
 * ```ts
 * import { envOverlay } from "./env.ts";
 *
 * const base = { nodeID: "n1", requestTimeout: 0, registry: { preferLocal: true } };
 * const { assignments } = envOverlay(base, {
 *   REQUESTTIMEOUT: "5000",
 *   REGISTRY_PREFERLOCAL: "false",
 *   MOL_NODE_ID: "api-1",
 * }, new Set(Object.keys(base)));
 * // requestTimeout = 5000, registry.preferLocal = false, nodeID = "api-1"
 * ```
 */
export function envOverlay(
  base: Record<string, unknown>,
  env: Readonly<Record<string, string>>,
  rootKeys: ReadonlySet<string>,
): EnvOverlay {
  const assignments: EnvAssignment[] = [];
  const ignored: string[] = [];

  const walk = (obj: Record<string, unknown>, prefix: string[]) => {
    for (const key of Object.keys(obj)) {
      const path = [...prefix, key];
      const current = obj[key];
      const plain = isPlainObject(current);
      if (!plain && !isScalar(current)) continue;
      const variable = path.join("_").toUpperCase();
      const raw = env[variable];
      if (raw !== undefined && raw !== "") {
        assignments.push({
          path,
          value: normaliseEnvValue(raw, current),
          variable,
        });
        continue;
      }
      if (plain) walk(current, path);
    }
  };
  walk(base, []);

  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith("MOL_")) continue;
    const raw = env[variable]!;
    if (raw === "") continue;
    const segments = variable.slice(4).split("__").map(camel);
    if (segments.length === 0 || segments.some((s) => s === "")) {
      ignored.push(`${variable} (malformed name)`);
      continue;
    }
    const path: string[] = [];
    let level: unknown = base;
    for (const [i, segment] of segments.entries()) {
      const keys = i === 0 ? [...rootKeys] : isPlainObject(level) ? Object.keys(level) : [];
      const known = keys.find((k) => k.toLowerCase() === segment.toLowerCase());
      path.push(known ?? segment);
      level = isPlainObject(level) ? level[known ?? segment] : undefined;
    }
    if (!rootKeys.has(path[0]!)) {
      ignored.push(`${variable} (no broker option '${path[0]}')`);
      continue;
    }
    assignments.push({ path, value: normaliseEnvValue(raw, level), variable });
  }
  return { assignments, ignored };
}
