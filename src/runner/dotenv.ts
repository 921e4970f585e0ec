/**
 * A dotenv parser: `KEY=VALUE` lines, `export ` prefixes, `#` comments, single, double and
 * backtick quotes (multi-line allowed), escapes in double quotes and `${VAR}` expansion.
 *
 * @module
 */

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s?(.*)$/;

/** A line of a dotenv file that cannot be parsed. */
export class DotenvSyntaxError extends SyntaxError {
  /** 1-based line number. */
  readonly line: number;

  /**
   * @param line 1-based line number.
   * @param message What is wrong.
   */
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "DotenvSyntaxError";
    this.line = line;
  }
}

function closingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote === '"' && c === "\\") {
      i++;
      continue;
    }
    if (c === quote) return i;
  }
  return -1;
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  r: "\r",
  t: "\t",
  "\\": "\\",
  '"': '"',
  $: "$",
};

function substitute(
  value: string,
  escapes: boolean,
  lookup: (key: string) => string | undefined,
): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (escapes && c === "\\" && i + 1 < value.length) {
      const next = value[i + 1]!;
      out += ESCAPES[next] ?? `\\${next}`;
      i++;
    } else if (c === "$" && value[i + 1] === "{") {
      const end = value.indexOf("}", i + 2);
      if (end < 0) {
        out += c;
        continue;
      }
      out += lookup(value.slice(i + 2, end).trim()) ?? "";
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Parse the text of a dotenv file.
 *
 * - `KEY=VALUE`, optionally `export KEY=VALUE`; blank lines and `# comments` are skipped;
 * - unquoted values are trimmed and end at ` #` (an inline comment);
 * - `'single'` and `` `backtick` `` values are literal; `"double"` values understand `\n`, `\r`,
 *   `\t`, `\"`, `\\` and `\$`; quoted values may span lines;
 * - `${NAME}` in unquoted and double-quoted values is replaced by a key defined earlier in the
 *   file, else by `lookup(NAME)`, else by an empty string.
 *
 * @param text The file's contents.
 * @param lookup Resolves `${NAME}` for names not defined in the file (e.g. the process env).
 * @returns The variables, in file order; a later line wins over an earlier one.
 * @throws {DotenvSyntaxError} naming the line of a malformed entry or an unclosed quote.
 *
 * @example
 * ```ts
 * import { parseDotenv } from "./dotenv.ts";
 *
 * parseDotenv('TRANSPORTER=nats://127.0.0.1:4222 # local\nNAMESPACE="dev"');
 * // { TRANSPORTER: "nats://127.0.0.1:4222", NAMESPACE: "dev" }
 * ```
 */
export function parseDotenv(
  text: string,
  lookup: (key: string) => string | undefined = () => undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  const resolve = (key: string) => Object.hasOwn(out, key) ? out[key] : lookup(key);
  const lines = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) {
      throw new DotenvSyntaxError(
        i + 1,
        `expected KEY=VALUE, got ${JSON.stringify(trimmed)}`,
      );
    }
    const key = m[1]!;
    const rest = m[2]!.trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === "`") {
      const start = i;
      let body = rest.slice(1);
      let end = closingQuote(body, quote);
      while (end < 0 && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i]}`;
        end = closingQuote(body, quote);
      }
      if (end < 0) {
        throw new DotenvSyntaxError(
          start + 1,
          `the ${quote} quote of ${key} is not closed`,
        );
      }
      const after = body.slice(end + 1).trim();
      if (after !== "" && !after.startsWith("#")) {
        throw new DotenvSyntaxError(
          i + 1,
          `unexpected text after the closing quote of ${key}`,
        );
      }
      const raw = body.slice(0, end);
      out[key] = quote === '"' ? substitute(raw, true, resolve) : raw;
    } else {
      const value = rest.replace(/(^|\s+)#.*$/, "").trim();
      out[key] = substitute(value, false, resolve);
    }
  }
  return out;
}
