/**
 * The REPL's command-line grammar: a line split into words (shell-like quoting), and words read
 * as declared flags, positionals and — for `call`, `emit`, `bench` — free `--key value` params
 * the way moleculer-repl reads them (yargs style: numbers and booleans converted, `--a.b`
 * nested, `--no-x` false, a repeated key an array, hex and leading-zero numbers kept as text).
 *
 * @module
 */

/** A command-line error: the REPL prints it and waits for the next command. */
export class ReplUsageError extends Error {
  /** @param message What is wrong and how to write it. */
  constructor(message: string) {
    super(message);
    this.name = "ReplUsageError";
  }
}

/**
 * Split a line into words: spaces separate, single and double quotes group (a backslash escapes
 * the next character outside single quotes).
 *
 * @param line The line typed.
 * @returns The words.
 * @throws {ReplUsageError} for an unclosed quote.
 *
 * @example
 * ```ts
 * import { splitLine } from "./line_args.ts";
 *
 * splitLine(`call greeter.hello --name "John Doe" '{"a": 1}'`);
 * // ["call", "greeter.hello", "--name", "John Doe", '{"a": 1}']
 * ```
 */
export function splitLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new ReplUsageError(`unclosed ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

/** A flag a command declares. */
export interface FlagSpec {
  /** Long name without dashes, e.g. `details`. */
  readonly name: string;
  /** One-letter alias, e.g. `d`. */
  readonly short?: string;
  /** `boolean` takes no value, `string` needs one, `optional` takes one when one follows. */
  readonly kind: "boolean" | "string" | "optional";
  /** For the help: the value's name, e.g. `<match>` or `[filename]`. */
  readonly value?: string;
  /** For the help. */
  readonly description: string;
}

/** Words read against a command's flags. */
export interface ParsedWords {
  /** The words that are not flags, in order. */
  readonly positionals: string[];
  /** The declared flags given: `true` for a boolean, the text (or `true`) otherwise. */
  readonly flags: Record<string, string | boolean>;
  /** Undeclared `--key value` words as params (only with `freeParams`). */
  readonly params: Record<string, unknown>;
}

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * A word as a value, as moleculer-repl converts it: `true`/`false` booleans, decimal numbers
 * numbers (not hex like `0x75`, not `007`, not one too big to hold exactly), the rest text.
 *
 * @param word The word.
 * @returns The value.
 */
export function convertValue(word: string): unknown {
  if (word === "true") return true;
  if (word === "false") return false;
  if (NUMBER.test(word) && !/^-?0\d/.test(word)) {
    const n = Number(word);
    if (Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n))) return n;
  }
  return word;
}

const isFlagWord = (w: string) => w.startsWith("-") && w.length > 1 && !NUMBER.test(w);

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  // Dots nest (`--b.c x` is `{ b: { c: "x" } }`); a prefixed key nests under its first part,
  // so `--#user.id 5` becomes meta `{ user: { id: 5 } }` once splitParams takes the `#` off.
  // Own properties throughout: a typed `--__proto__.x 1` must not reach a prototype.
  const parts = key.split(".");
  let at = target;
  for (const part of parts.slice(0, -1)) {
    const next = Object.hasOwn(at, part) ? at[part] : undefined;
    if (typeof next !== "object" || next === null || Array.isArray(next)) {
      const fresh: Record<string, unknown> = {};
      Object.defineProperty(at, part, {
        value: fresh,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      at = fresh;
    } else at = next as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  const old = Object.hasOwn(at, last) ? at[last] : undefined;
  const merged = old === undefined ? value : Array.isArray(old) ? [...old, value] : [old, value];
  Object.defineProperty(at, last, {
    value: merged,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * Read words against declared flags.
 *
 * @param words The words after the command name.
 * @param specs The command's flags.
 * @param freeParams True for commands whose undeclared `--key value` words are params.
 * @returns Positionals, flags and params.
 * @throws {ReplUsageError} for an unknown flag (without `freeParams`) or a missing value.
 */
export function parseWords(
  words: readonly string[],
  specs: readonly FlagSpec[],
  freeParams = false,
): ParsedWords {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  const params: Record<string, unknown> = {};
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    if (s.short) byName.set(s.short, s);
  }
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (!isFlagWord(word)) {
      positionals.push(word);
      continue;
    }
    const long = word.startsWith("--");
    const body = word.slice(long ? 2 : 1);
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const next = words[i + 1];
    const nextIsValue = next !== undefined && !isFlagWord(next);
    // Short letters may be grouped (`-ad`) when every one is a declared boolean.
    if (!long && name.length > 1 && inline === undefined) {
      const letters = [...name].map((l) => byName.get(l));
      if (letters.every((s) => s?.kind === "boolean")) {
        for (const s of letters) flags[s!.name] = true;
        continue;
      }
    }
    const spec = byName.get(name);
    if (spec && (long || spec.short === name)) {
      if (spec.kind === "boolean") {
        if (inline !== undefined) flags[spec.name] = inline !== "false";
        else flags[spec.name] = true;
      } else if (inline !== undefined) {
        flags[spec.name] = inline;
      } else if (nextIsValue) {
        flags[spec.name] = next;
        i++;
      } else if (spec.kind === "optional") {
        flags[spec.name] = true;
      } else {
        throw new ReplUsageError(`--${spec.name} needs a value ${spec.value ?? ""}`.trimEnd());
      }
      continue;
    }
    if (!freeParams) {
      throw new ReplUsageError(`unknown option '${word}'`);
    }
    if (long && name.startsWith("no-") && inline === undefined) {
      setPath(params, name.slice(3), false);
    } else if (inline !== undefined) {
      setPath(params, name, convertValue(inline));
    } else if (nextIsValue) {
      setPath(params, name, convertValue(next));
      i++;
    } else {
      setPath(params, name, true);
    }
  }
  return { positionals, flags, params };
}

/** Params split by their prefix, as moleculer-repl does. */
export interface SplitParams {
  /** Plain keys (and `@key`, which forces a key into the params). */
  readonly params: Record<string, unknown>;
  /** `#key` keys: the call's meta. */
  readonly meta: Record<string, unknown>;
  /** `$key` keys: call or emit options, e.g. `--$timeout 500`. */
  readonly options: Record<string, unknown>;
}

/**
 * Split free params into params, `#meta` and `$options`.
 *
 * @param all What {@linkcode parseWords} read.
 * @returns The three parts.
 *
 * @example
 * ```ts
 * import { parseWords, splitParams } from "./line_args.ts";
 *
 * const words = ["--a", "5", "--b.c", "x", "--#tenant", "acme", "--$timeout", "500"];
 * splitParams(parseWords(words, [], true).params);
 * // { params: { a: 5, b: { c: "x" } }, meta: { tenant: "acme" }, options: { timeout: 500 } }
 * ```
 */
export function splitParams(all: Record<string, unknown>): SplitParams {
  const params: Record<string, unknown> = {};
  const meta: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    const target = key.startsWith("#") ? meta : key.startsWith("$") ? options : params;
    const name = key.startsWith("#") || key.startsWith("$") || key.startsWith("@")
      ? key.slice(1)
      : key;
    if (name !== "") {
      Object.defineProperty(target, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return { params, meta, options };
}
