/**
 * What the conformance suite does not reach: hostile MessagePack bytes, each dialect's own rules
 * on decoding, JSONExt's and CBOR's options, and that a broker on JSON loads none of the others.
 */

import assert from "node:assert/strict";
import { BrokerOptionsError, InvalidPacketDataError } from "../../src/errors.ts";
import { resolveSerializer } from "../../src/serializers/resolve.ts";
import type { Serializer } from "../../src/serializers/serializer.ts";

async function ready(
  name: string,
  options?: Record<string, unknown>,
): Promise<Serializer> {
  const s = resolveSerializer(options ? { type: name, options } : name);
  await s.init?.();
  return s;
}

const refused = (s: Serializer, bytes: number[] | Uint8Array, why: string) =>
  assert.throws(
    () =>
      s.deserialize(
        bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes),
      ),
    InvalidPacketDataError,
    why,
  );

Deno.test("MessagePack: hostile bytes are refused, never crash or allocate what they claim", async () => {
  for (const name of ["MsgPack", "Notepack"]) {
    const s = await ready(name);
    refused(
      s,
      [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01],
      `${name}: array 32 of 4 G items in 6 bytes`,
    );
    refused(
      s,
      [0xdf, 0xff, 0xff, 0xff, 0xff],
      `${name}: map 32 of 4 G entries`,
    );
    refused(s, [0xc6, 0x7f, 0xff, 0xff, 0xff, 0x00], `${name}: bin 32 of 2 GB`);
    refused(s, [0x81, 0xa1, 0x61, 0xc1], `${name}: 0xc1 is reserved`);
    refused(s, [0x80, 0x00], `${name}: a byte after the payload`);
    refused(s, [0x93, 0x01, 0x02], `${name}: an array with an item missing`);
    const deep = new Uint8Array(100_000).fill(0x91); // [[[[…]]]] without an end
    refused(s, deep, `${name}: nested 100 000 deep`);
  }
});

Deno.test("MessagePack: __proto__ is refused by MsgPack and an own property under Notepack", async () => {
  // { "__proto__": { "polluted": 1 } }
  const bytes = new Uint8Array([
    0x81,
    0xa9,
    ...new TextEncoder().encode("__proto__"),
    0x81,
    0xa8,
    ...new TextEncoder().encode("polluted"),
    0x01,
  ]);
  refused(await ready("MsgPack"), bytes, "msgpack5 refuses a __proto__ key");
  const decoded = (await ready("Notepack")).deserialize(bytes);
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.deepEqual(
    Object.getOwnPropertyDescriptor(decoded, "__proto__")?.value,
    { polluted: 1 },
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("MessagePack: a map with keys that are not strings is a Map under MsgPack, as in msgpack5", async () => {
  // { 1: "a" }
  const bytes = new Uint8Array([0x82, 0xa1, 0x6b, 0x01, 0x01, 0xa1, 0x61]);
  const msgpack = (await ready("MsgPack")).deserialize(bytes);
  assert.ok(msgpack instanceof Map);
  assert.deepEqual([...(msgpack as unknown as Map<unknown, unknown>)], [[
    "k",
    1,
  ], [1, "a"]]);
  assert.deepEqual((await ready("Notepack")).deserialize(bytes), {
    k: 1,
    1: "a",
  });
});

Deno.test("binary decodes into a copy: changing the packet afterwards changes nothing", async () => {
  for (const name of ["JSONExt", "MsgPack", "Notepack", "CBOR"]) {
    const s = await ready(name);
    const bytes = s.serialize({
      blob: new Uint8Array([1, 2, 3]),
      ver: "5",
      sender: "n",
    }).slice();
    const decoded = s.deserialize(bytes) as { blob: Uint8Array };
    bytes.fill(0);
    assert.deepEqual(decoded.blob, new Uint8Array([1, 2, 3]), name);
    assert.equal(decoded.blob.constructor, Uint8Array, name);
  }
});

Deno.test("MsgPack refuses what msgpack5 cannot encode, naming it", async () => {
  const s = await ready("MsgPack");
  assert.throws(() => s.serialize({ n: 1n }), TypeError);
  assert.throws(
    () => s.serialize({ list: [undefined] }),
    /undefined is not encodable/,
  );
  // A failed packet leaves the encoder as it was.
  assert.deepEqual(s.deserialize(s.serialize({ a: 1 })), { a: 1 });
});

Deno.test("JSONExt: customs round-trip; bad options are named", async () => {
  class Point {
    constructor(readonly x: number, readonly y: number) {}
  }
  const s = await ready("JSONExt", {
    customs: [{
      prefix: "PT",
      check: (v: unknown) => v instanceof Point,
      serialize: (v: Point) => `${v.x},${v.y}`,
      deserialize: (text: string) =>
        new Point(...(text.split(",").map(Number) as [number, number])),
    }],
  });
  const bytes = s.serialize({ p: new Point(1, 2), ver: "5", sender: "n" });
  assert.equal(
    new TextDecoder().decode(bytes),
    '{"p":"[[PT]]1,2","ver":"5","sender":"n"}',
  );
  assert.deepEqual(s.deserialize(bytes), {
    p: new Point(1, 2),
    ver: "5",
    sender: "n",
  });

  for (
    const [options, message] of [
      [
        { space: 2 },
        /'serializer\.options\.space': the JSONExt serializer takes 'customs' only/,
      ],
      [
        { customs: [{ prefix: "X" }] },
        /'serializer\.options\.customs\[0\]' must be/,
      ],
    ] as const
  ) {
    await assert.rejects(
      async () => await ready("JSONExt", options),
      (err: unknown) => {
        assert.ok(err instanceof BrokerOptionsError);
        assert.match(err.message, message);
        return true;
      },
    );
  }
  refused(
    await ready("JSONExt"),
    new TextEncoder().encode('{"n":"[[BI]]x"}'),
    "a bad BigInt",
  );
});

Deno.test("CBOR: options go to cbor-x over Moleculer's defaults; MsgPack takes none", async () => {
  const plain = await ready("CBOR");
  const f32 = await ready("CBOR", { useFloat32: 1 });
  const payload = { x: 1.5, ver: "5", sender: "n" };
  assert.ok(f32.serialize(payload).length < plain.serialize(payload).length);
  assert.deepEqual(f32.deserialize(f32.serialize(payload)), payload);
  const msgpack = resolveSerializer({
    type: "MsgPack",
    options: { forceFloat64: true },
  });
  await assert.rejects(
    async () => await msgpack.init?.(),
    /'serializer\.options\.forceFloat64': the MsgPack serializer takes no options/,
  );
});

Deno.test("a program on JSON loads none of the other serializers' code", async () => {
  // Modules reachable from mod.ts by static imports (type-only ones and `import()` excluded)
  // are the ones a program evaluates before it picks a serializer.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../../mod.ts", import.meta.url).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  type Dep = { code?: { specifier: string }; isDynamic?: boolean };
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: Dep[] }[];
  };
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) visit(dep.code.specifier);
    }
  };
  graph.roots.forEach(visit);
  const lazy =
    /serializers\/(json_ext|msgpack|msgpack_codec|notepack|cbor)\.ts$|cbor-x|cbor-extract/;
  assert.ok(
    seen.has(new URL("../../src/serializers/json.ts", import.meta.url).href),
  );
  assert.deepEqual([...seen].filter((s) => lazy.test(s)), []);
  // And the table does reach them, by import().
  const all = graph.modules.map((m) => m.specifier).filter((s) => lazy.test(s));
  assert.equal(all.filter((s) => s.endsWith(".ts")).length, 5, all.join(", "));
});
