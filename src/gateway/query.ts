/**
 * Query strings and `application/x-www-form-urlencoded` bodies parsed as moleculer-web parses
 * them (the `qs` package's defaults): `a=1&a=2` gives `["1", "2"]`, `a[]=1` an array,
 * `a[b][c]=1` nested objects (5 levels), `a[0]=x` an array for indexes up to 20; at most 1000
 * parameters; `+` is a space; malformed percent-encoding is kept as written. Keys that would
 * reach `Object.prototype` (`__proto__`, `constructor`, `prototype`) are dropped.
 *
 * @module
 */

/** Limits of {@linkcode parseQuery}; `qs`'s names and defaults. */
export interface QueryOptions {
  /** Deepest nesting of `a[b][c]`; deeper brackets stay part of the key. @default {5} */
  depth?: number;
  /** Most parameters read; the rest are ignored. @default {1000} */
  parameterLimit?: number;
  /** Highest index `a[n]` that builds an array; above it, an object. @default {20} */
  arrayLimit?: number;
}

type Bag = Record<string, unknown>;

const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

function decode(s: string): string {
  const plus = s.indexOf("+") === -1 ? s : s.replace(/\+/g, " ");
  if (plus.indexOf("%") === -1) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** `a[b][]` → `["a", "b", ""]`; brackets past `depth` are kept in one last segment. */
function splitKey(key: string, depth: number): string[] {
  const open = key.indexOf("[");
  if (open <= 0 || depth <= 0) return [key];
  const parts = [key.slice(0, open)];
  let rest = key.slice(open);
  const re = /^\[([^\[\]]*)\]/;
  let m: RegExpExecArray | null;
  while (parts.length <= depth && (m = re.exec(rest)) !== null) {
    parts.push(m[1] as string);
    rest = rest.slice(m[0].length);
  }
  // Past `depth` (or an unclosed bracket), the rest stays one literal key, as in qs.
  if (rest) parts.push(rest);
  return parts;
}

function merge(target: unknown, value: unknown): unknown {
  if (target === undefined) return value;
  if (Array.isArray(target)) {
    target.push(value);
    return target;
  }
  return [target, value];
}

function assign(root: Bag, path: string[], value: string, arrayLimit: number): void {
  let node: Bag | unknown[] = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i] as string;
    const last = i === path.length - 1;
    if (FORBIDDEN.has(key)) return;
    if (Array.isArray(node)) {
      const index = key === "" ? node.length : Number(key);
      if (!Number.isInteger(index) || index < 0 || index > arrayLimit) {
        // An index the array form does not allow: turn the array into an object.
        const obj: Bag = { ...node };
        replaceChild(root, path.slice(0, i), obj);
        node = obj;
        i--;
        continue;
      }
      if (last) {
        if (key === "") node.push(value);
        else node[index] = merge(node[index], value);
        return;
      }
      node = (node[index] ??= nextContainer(path[i + 1] as string, arrayLimit)) as Bag;
      continue;
    }
    const bag = node as Bag;
    if (last) {
      bag[key] = merge(Object.hasOwn(bag, key) ? bag[key] : undefined, value);
      return;
    }
    let child = Object.hasOwn(bag, key) ? bag[key] : undefined;
    if (child === undefined) {
      child = nextContainer(path[i + 1] as string, arrayLimit);
      bag[key] = child;
    } else if (typeof child !== "object" || child === null) {
      // `a=1&a[b]=2`: qs keeps both as an array; an object wins here so the nested key lands.
      child = { [String(0)]: child };
      bag[key] = child;
    }
    node = child as Bag;
  }
}

function nextContainer(nextKey: string, arrayLimit: number): Bag | unknown[] {
  if (nextKey === "") return [];
  const n = Number(nextKey);
  return Number.isInteger(n) && n >= 0 && n <= arrayLimit ? [] : {};
}

function replaceChild(root: Bag, path: string[], value: Bag): void {
  let node: Bag | unknown[] = root;
  for (let i = 0; i < path.length - 1; i++) {
    node = (node as Bag)[path[i] as string] as Bag;
  }
  (node as Bag)[path[path.length - 1] as string] = value;
}

/**
 * Parse a query string (without the `?`) or a urlencoded body.
 *
 * @param text The encoded pairs.
 * @param options Limits.
 * @returns The parameters.
 *
 * @example
 * ```ts
 * import { parseQuery } from "./query.ts";
 *
 * parseQuery("a=1&a=2&user[name]=Ann&tags[]=x"); // { a: ["1", "2"], user: { name: "Ann" }, tags: ["x"] }
 * ```
 */
export function parseQuery(
  text: string,
  options: QueryOptions = {},
): Record<string, unknown> {
  const depth = options.depth ?? 5;
  const limit = options.parameterLimit ?? 1000;
  const arrayLimit = options.arrayLimit ?? 20;
  const out: Bag = {};
  if (!text) return out;
  let count = 0;
  let start = 0;
  while (start <= text.length && count < limit) {
    let end = text.indexOf("&", start);
    if (end === -1) end = text.length;
    const pair = text.slice(start, end);
    start = end + 1;
    if (!pair) continue;
    count++;
    const eq = pair.indexOf("=");
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const key = decode(rawKey);
    if (!key) continue;
    const value = eq === -1 ? "" : decode(pair.slice(eq + 1));
    if (key.indexOf("[") <= 0) {
      if (FORBIDDEN.has(key)) continue;
      out[key] = merge(Object.hasOwn(out, key) ? out[key] : undefined, value);
    } else {
      assign(out, splitKey(key, depth), value, arrayLimit);
    }
  }
  return out;
}
