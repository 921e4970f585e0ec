/**
 * Alias paths compiled as moleculer-web 0.11 compiles them (path-to-regexp 8 with its
 * defaults): `:name` matches one segment, `*name` the rest of the path (slashes too), `{…}`
 * makes a part optional, `\\` escapes; matching ignores case and allows one trailing slash.
 *
 * @module
 */

/** A compiled alias path. */
export interface CompiledPath {
  /** The whole-path pattern. */
  readonly regexp: RegExp;
  /** The parameter names, in capture order. */
  readonly keys: readonly string[];
}

const ID_START = /[$_\p{ID_Start}]/u;
const ID_CONTINUE = /[$\u200c\u200d\p{ID_Continue}]/u;

function escapeRe(s: string): string {
  return s.replace(/[.+*?^${}()[\]|/\\]/g, "\\$&");
}

/**
 * Compile an alias path.
 *
 * @param path A path such as `/api/users/:id` or `/files/*rest` or `/items{/:id}`.
 * @returns Its pattern and parameter names.
 * @throws {TypeError} naming the path, for a parameter without a name or an unclosed `{`.
 *
 * @example
 * ```ts
 * import { compilePath } from "./path.ts";
 *
 * const { regexp, keys } = compilePath("/api/users/:id");
 * console.log(regexp.exec("/api/users/5")?.[1], keys); // "5" ["id"]
 * ```
 */
export function compilePath(path: string): CompiledPath {
  const keys: string[] = [];
  let i = 0;
  const chars = [...path];
  const readName = (): string => {
    let name = "";
    if (chars[i] === '"') {
      i++;
      while (i < chars.length && chars[i] !== '"') name += chars[i++];
      i++;
    } else if (i < chars.length && ID_START.test(chars[i] as string)) {
      while (i < chars.length && ID_CONTINUE.test(chars[i] as string)) name += chars[i++];
    }
    if (!name) throw new TypeError(`Alias path '${path}' has a parameter without a name`);
    return name;
  };
  const group = (closing: boolean): string => {
    let out = "";
    while (i < chars.length) {
      const c = chars[i++] as string;
      if (c === "\\") out += escapeRe(chars[i++] ?? "");
      else if (c === ":") {
        keys.push(readName());
        out += "([^/]+)";
      } else if (c === "*") {
        keys.push(readName());
        out += "([\\s\\S]+)";
      } else if (c === "{") out += `(?:${group(true)})?`;
      else if (c === "}") {
        if (closing) return out;
        throw new TypeError(`Alias path '${path}' has a '}' without a '{'`);
      } else out += escapeRe(c);
    }
    if (closing) throw new TypeError(`Alias path '${path}' has a '{' without a '}'`);
    return out;
  };
  const source = group(false);
  return { regexp: new RegExp(`^(?:${source})(?:/$)?$`, "i"), keys };
}
