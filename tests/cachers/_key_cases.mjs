// Cache-key cases shared by the Deno tests and the Node.js script that asks Moleculer 0.15 for
// its keys (plain JavaScript, so both runtimes import the very same values: dates, undefined,
// bigints and Maps do not survive JSON).

const long = {
  query: { name: "a name that is rather long", tags: ["x", "y", "z"] },
  page: 12,
  text: "lorem ipsum dolor sit amet ".repeat(8),
};

/**
 * @type {Array<{
 *   name: string, action: string, params?: unknown, meta?: unknown, headers?: unknown,
 *   keys?: string[], maxParamsLength?: number | null,
 * }>}
 */
export const CASES = [
  {
    name: "plain params",
    action: "users.get",
    params: { id: 5, name: "John" },
  },
  { name: "empty params", action: "users.list", params: {} },
  {
    name: "nested objects",
    action: "users.find",
    params: {
      user: { id: 1, roles: ["a", "b"], profile: { age: 30, tags: [] } },
    },
  },
  {
    name: "arrays of values, arrays and objects",
    action: "a.b",
    params: { ids: [1, 2, [3, 4]], objs: [{ a: 1 }, { b: null }], empty: [] },
  },
  {
    name: "null and undefined",
    action: "a.b",
    params: { a: null, b: undefined, c: [null, undefined] },
  },
  {
    name: "numbers, booleans and strings",
    action: "a.b",
    params: {
      t: true,
      f: false,
      z: 0,
      neg: -1.5,
      big: 1e21,
      nan: NaN,
      inf: -Infinity,
      s: "",
      q: 'say "hi"',
      pipe: "a|b",
    },
  },
  {
    name: "dates, valid and invalid",
    action: "a.b",
    params: { at: new Date(0), bad: new Date("x") },
  },
  {
    name: "Map, Uint8Array, String object, bigint",
    action: "a.b",
    params: {
      m: new Map([[1, 2]]),
      bytes: new Uint8Array([1, 2]),
      s: new String("x"),
      n: 10n,
    },
  },
  {
    name: "integer-like keys come first",
    action: "a.b",
    params: { b: 1, 2: "x", a: 2, 1: "y" },
  },
  { name: "params that are a string", action: "a.b", params: "str" },
  {
    name: "params that are an array",
    action: "a.b",
    params: [1, "2", { x: 3 }],
  },
  { name: "params null, meta present", action: "a.b", params: null, meta: {} },
  { name: "nothing at all", action: "a.b" },
  {
    name: "one key, a number",
    action: "users.get",
    params: { id: 5, x: 1 },
    keys: ["id"],
  },
  {
    name: "one key, a string",
    action: "users.get",
    params: { id: "5" },
    keys: ["id"],
  },
  {
    name: "one key, an object",
    action: "users.get",
    params: { q: { a: 1, b: [2] } },
    keys: ["q"],
  },
  { name: "one key, missing", action: "users.get", params: {}, keys: ["id"] },
  {
    name: "several keys",
    action: "users.find",
    params: { id: 5, name: "Ann", other: true },
    keys: ["id", "name"],
  },
  {
    name: "several keys, object and array values",
    action: "users.find",
    params: { user: { id: 1 }, ids: [1, 2], n: 3 },
    keys: ["user", "ids", "n"],
  },
  {
    name: "#meta keys",
    action: "posts.list",
    params: { page: 2 },
    meta: { user: { id: 9, roles: ["admin"] }, tenant: "acme" },
    keys: ["#user.id", "page", "#tenant"],
  },
  {
    name: "one #meta key",
    action: "posts.list",
    params: {},
    meta: { tenant: "acme" },
    keys: ["#tenant"],
  },
  {
    name: "@header keys",
    action: "posts.list",
    params: { page: 2 },
    meta: { user: { id: 9 } },
    headers: { tenant: "acme", "x-trace": { id: 1 } },
    keys: ["@tenant", "#user.id", "page", "@x-trace"],
  },
  {
    name: "# and @ keys without meta or headers read params",
    action: "a.b",
    params: { "#x": 1, "@y": 2 },
    meta: null,
    headers: null,
    keys: ["#x", "@y"],
  },
  {
    name: "deep paths: dots, brackets, quotes, a dotted key that exists",
    action: "a.b",
    params: {
      user: { profile: { age: 30 }, id: 7 },
      ids: [10, 20],
      "a.b": 1,
      a: { b: 2 },
    },
    keys: [
      "user.profile.age",
      "ids[1]",
      'user["id"]',
      "a.b",
      "user.missing.deeper",
    ],
  },
  { name: "empty keys list", action: "a.b", params: { id: 1 }, keys: [] },
  {
    name: "unicode and a line break",
    action: "a.b",
    params: { s: "ünïcødé ✓\nline" },
  },
  {
    name: "long params over maxParamsLength",
    action: "search.find",
    params: long,
    maxParamsLength: 60,
  },
  {
    name: "long unicode params over maxParamsLength",
    action: "search.find",
    params: { s: "ünïcødé ✓ ".repeat(20) },
    maxParamsLength: 50,
  },
  {
    name: "maxParamsLength 44: the hash alone",
    action: "search.find",
    params: long,
    maxParamsLength: 44,
  },
  {
    name: "maxParamsLength under 44: never shortened",
    action: "search.find",
    params: long,
    maxParamsLength: 30,
  },
  {
    name: "several keys, long object value hashed on its own, then the whole",
    action: "search.find",
    params: long,
    keys: ["query", "page", "text"],
    maxParamsLength: 50,
  },
  {
    name: "short params under maxParamsLength",
    action: "users.get",
    params: { id: 5 },
    maxParamsLength: 60,
  },
];
