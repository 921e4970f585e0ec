/**
 * Minimal glob matching for service paths and `--mask`: `*`, `**`, `?`, `{a,b}` and `[abc]`.
 * Paths use `/` separators.
 *
 * @module
 */

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Whether a path is a glob pattern.
 *
 * @param path A path as given on the command line.
 * @returns True when it holds `*`, `?`, `[`, `]`, `{` or `}`.
 */
export function isGlob(path: string): boolean {
  return GLOB_CHARS.test(path);
}

function escape(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/**
 * Compile a glob to a regular expression matching a whole `/`-separated path.
 *
 * `*` matches within one segment, `**` across segments (`a/**\/b` also matches `a/b`),
 * `?` one character, `{ts,js}` alternatives and `[abc]` / `[!abc]` character classes.
 *
 * @param glob The pattern.
 * @returns The expression, anchored at both ends.
 */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const atStart = i === 0 || glob[i - 1] === "/";
        if (atStart && glob[i + 2] === "/") {
          re += "(?:.*/)?";
          i += 2;
        } else {
          re += ".*";
          i += 1;
        }
      } else {
        re += "[^/]*";
      }
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "{") {
      depth++;
      re += "(?:";
    } else if (c === "}" && depth > 0) {
      depth--;
      re += ")";
    } else if (c === "," && depth > 0) {
      re += "|";
    } else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else {
      re += escape(c);
    }
  }
  return new RegExp(`^${re}$`);
}

/**
 * The directory part of a glob before its first pattern segment: `src/**\/*.ts` → `src`.
 *
 * @param glob The pattern.
 * @returns The static prefix (`"."` when the first segment is a pattern).
 */
export function globBase(glob: string): string {
  const parts = glob.split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (isGlob(part)) break;
    out.push(part);
  }
  if (out.length === parts.length) out.pop();
  if (out.length === 0) return ".";
  if (out.length === 1 && out[0] === "") return "/";
  return out.join("/");
}
