import assert from "node:assert/strict";
import { idCounter, nextId } from "../../src/_util/ids.ts";

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

Deno.test("context ids are UUID-shaped, as Moleculer's", () => {
  for (let i = 0; i < 1000; i++) assert.match(nextId(), UUID_SHAPE);
});

Deno.test("the first 16 hex digits differ from one id to the next (what 64-bit exporters keep)", () => {
  const seen = new Set<string>();
  const n = 200_000;
  for (let i = 0; i < n; i++) seen.add(nextId().replace(/-/g, "").slice(0, 16));
  assert.equal(seen.size, n);
});

Deno.test("ids of consecutive calls do not share a prefix a 16-digit cut would merge", () => {
  const a = nextId(), b = nextId(), c = nextId();
  const cut = (id: string) => id.replace(/-/g, "").slice(0, 16);
  assert.equal(new Set([cut(a), cut(b), cut(c)]).size, 3);
  // Not a visible counter either: the leading digits look random.
  assert.notEqual(a.slice(0, 4), b.slice(0, 4));
});

Deno.test("idCounter reads back the counter of this process's ids", () => {
  const a = nextId();
  const b = nextId();
  assert.ok(idCounter(a) >= 1);
  assert.equal(idCounter(b), idCounter(a) + 1);
});

Deno.test("idCounter refuses other shapes and other processes' tags", () => {
  const id = nextId();
  const tag = id.slice(19, 23);
  const other = tag === "0000" ? "0001" : "0000";
  const foreign = crypto.randomUUID();
  assert.equal(idCounter(foreign.slice(0, 19) + other + foreign.slice(23)), -1);
  assert.equal(idCounter(""), -1);
  assert.equal(idCounter(id.toUpperCase()), -1);
  assert.equal(idCounter(id + "0"), -1);
  assert.equal(idCounter(id.slice(0, 19) + other + id.slice(23)), -1);
  assert.equal(idCounter(id.replace("-", "x")), -1);
  assert.equal(idCounter(id.slice(0, 24) + "x" + id.slice(25)), -1);
});
