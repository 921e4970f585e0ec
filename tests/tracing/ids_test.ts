import assert from "node:assert/strict";
import { idSeq, nextId } from "../../src/_util/ids.ts";

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

Deno.test("idSeq reads back the counter of this process's ids", () => {
  const a = nextId();
  const b = nextId();
  assert.ok(idSeq(a) >= 1);
  assert.equal(idSeq(b), idSeq(a) + 1);
});

Deno.test("idSeq refuses every other string: foreign UUIDs, edited ids, other shapes", () => {
  const id = nextId();
  assert.equal(idSeq(crypto.randomUUID()), -1);
  assert.equal(idSeq(""), -1);
  assert.equal(idSeq(id.toUpperCase()), -1);
  assert.equal(idSeq(id + "0"), -1);
  // The same tag and counter with other leading digits is not this process's id.
  for (let i = 0; i < 16; i++) {
    if (i === 8 || i === 13) continue;
    const c = id[i] === "0" ? "1" : "0";
    assert.equal(idSeq(id.slice(0, i) + c + id.slice(i + 1)), -1, `digit ${i}`);
  }
  // Another tag, or a dash moved.
  const tag = id[19] === "0" ? "1" : "0";
  assert.equal(idSeq(id.slice(0, 19) + tag + id.slice(20)), -1);
  assert.equal(idSeq(id.replace("-", "x")), -1);
});
