/**
 * Event-name matching with Moleculer's wildcards: `*` matches anything but a
 * dot, `**` matches anything, `?` matches one character.
 *
 * @module
 */

const cache = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    let src = "";
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === "*") {
        if (pattern[i + 1] === "*") {
          src += ".*";
          i++;
        } else src += "[^.]*";
      } else if (c === "?") src += ".";
      else src += c.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
    }
    re = new RegExp(`^${src}$`);
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/**
 * True when `name` matches `pattern`.
 *
 * @param name A concrete event name, e.g. `user.created`.
 * @param pattern A subscription name, e.g. `user.*` or `**`.
 * @returns Whether it matches.
 *
 * @example
 * ```ts ignore
 * matchEventName("user.created", "user.*"); // true
 * matchEventName("user.created.v2", "user.*"); // false
 * matchEventName("user.created.v2", "user.**"); // true
 * ```
 */
export function matchEventName(name: string, pattern: string): boolean {
  if (pattern.indexOf("*") === -1 && pattern.indexOf("?") === -1) return name === pattern;
  if (pattern === "**") return true;
  return compile(pattern).test(name);
}
