/**
 * The gateway's parsers on their own: query strings as `qs` reads them, alias paths as
 * path-to-regexp 8 compiles them, body sizes as `bytes` reads them.
 */

import assert from "node:assert/strict";
import { parseQuery } from "../../src/gateway/mod.ts";
import { compilePath } from "../../src/gateway/path.ts";
import { parseSize } from "../../src/gateway/body.ts";

Deno.test("parseQuery: repeats, brackets, indexes, depth, encodings, limits", () => {
  assert.deepEqual(parseQuery("a=1&a=2&a=3"), { a: ["1", "2", "3"] });
  assert.deepEqual(parseQuery("t[]=x&t[]=y"), { t: ["x", "y"] });
  assert.deepEqual(parseQuery("i[1]=b&i[0]=a"), { i: ["a", "b"] });
  assert.deepEqual(parseQuery("big[21]=x"), { big: { 21: "x" } });
  assert.deepEqual(parseQuery("u[name][first]=A&u[age]=3"), {
    u: { name: { first: "A" }, age: "3" },
  });
  assert.deepEqual(parseQuery("a[b][c][d][e][f][g]=1"), {
    a: { b: { c: { d: { e: { f: { "[g]": "1" } } } } } },
  });
  assert.deepEqual(parseQuery("s=a+b%20c&e=&f&%F0%9F%98%80=smile"), {
    s: "a b c",
    e: "",
    f: "",
    "😀": "smile",
  });
  assert.deepEqual(parseQuery("bad=%E0%A4%A&ok=1"), {
    bad: "%E0%A4%A",
    ok: "1",
  });
  assert.deepEqual(parseQuery("__proto__[x]=1&constructor=2&prototype=3"), {});
  assert.equal(
    Object.keys(parseQuery("a=1&b=2&c=3", { parameterLimit: 2 })).length,
    2,
  );
  assert.deepEqual(parseQuery("a[b]=1", { depth: 0 }), { "a[b]": "1" });
  assert.deepEqual(parseQuery(""), {});
});

Deno.test("compilePath: params, wildcards, optional groups, escapes, case and trailing slash", () => {
  const m = (path: string, url: string) => {
    const { regexp, keys } = compilePath(path);
    const hit = regexp.exec(url);
    return hit ? Object.fromEntries(keys.map((k, i) => [k, hit[i + 1]])) : null;
  };
  assert.deepEqual(m("/api/users/:id", "/api/users/5"), { id: "5" });
  assert.deepEqual(m("/api/users/:id", "/API/Users/5/"), { id: "5" });
  assert.equal(m("/api/users/:id", "/api/users/5/x"), null);
  assert.deepEqual(m("/files/*path", "/files/a/b/c.txt"), {
    path: "a/b/c.txt",
  });
  assert.deepEqual(m("/items{/:id}", "/items"), { id: undefined });
  assert.deepEqual(m("/items{/:id}", "/items/3"), { id: "3" });
  assert.deepEqual(m("/a/:x-:y", "/a/1-2"), { x: "1", y: "2" });
  assert.deepEqual(m("/lit\\:colon", "/lit:colon"), {});
  assert.deepEqual(m('/q/:"quoted name"', "/q/v"), { "quoted name": "v" });
  assert.throws(() => compilePath("/a/:"), /without a name/);
  assert.throws(() => compilePath("/a{/b"), /'\{' without a '\}'/);
});

Deno.test("parseSize: numbers and sizes, errors naming the option", () => {
  assert.equal(parseSize(10, "x"), 10);
  assert.equal(parseSize("100kb", "x"), 102400);
  assert.equal(parseSize("1.5mb", "x"), 1572864);
  assert.equal(parseSize("12", "x"), 12);
  assert.throws(
    () => parseSize("lots", "routes[0].bodyParsers.json.limit"),
    /bodyParsers\.json\.limit/,
  );
});
