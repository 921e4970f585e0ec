/**
 * Lazily loaded serializers: a `load` entry of the serializer table is imported only when its
 * serializer is made ready with `init()`, as the transit does on connect.
 */

import assert from "node:assert/strict";
import { BrokerOptionsError, MoleculerError } from "../../src/errors.ts";
import { LazySerializer } from "../../src/serializers/lazy.ts";
import {
  BUILT_IN_SERIALIZERS,
  resolveSerializerIn,
  type SerializerEntry,
} from "../../src/serializers/resolve.ts";
import type { Serializer } from "../../src/serializers/serializer.ts";
import type { TaggedJSONOptions } from "./_lazy_fixture.ts";

// A type-only import of the fixture (erased), and its counter by its global symbol: the
// fixture module is evaluated by the `import()` of its entry, never by this file.
type Counts = { loads: number; inits: number };
const COUNTS = Symbol.for("denolecular.test.lazySerializer");
const counts = (): Counts => ({
  loads: 0,
  inits: 0,
  ...(globalThis as Record<symbol, Counts | undefined>)[COUNTS],
});

const TAGGED: SerializerEntry = {
  name: "TaggedJSON",
  library: "./_lazy_fixture.ts",
  load: async () => {
    const { TaggedJSONSerializer } = await import("./_lazy_fixture.ts");
    return (options) => new TaggedJSONSerializer(options as TaggedJSONOptions);
  },
};

const MISSING_MODULE = new URL("./_no_such_serializer.ts", import.meta.url).href;
const MISSING: SerializerEntry = {
  name: "Missing",
  library: "npm:no-such-codec",
  load: () => import(MISSING_MODULE),
};

const TABLE: readonly SerializerEntry[] = [...BUILT_IN_SERIALIZERS, TAGGED, MISSING];
const payload = { id: "1", data: { é: [1, null] }, ver: "5", sender: "n1" };

Deno.test("a lazy entry loads nothing when resolved, and loads once on init()", async () => {
  assert.deepEqual(counts(), { loads: 0, inits: 0 }, "nothing has loaded the fixture yet");
  const serializer = resolveSerializerIn(TABLE, "taggedjson");
  assert.ok(serializer instanceof LazySerializer);
  assert.equal(serializer.name, "TaggedJSON");
  assert.equal(serializer.loaded, false);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(counts(), { loads: 0, inits: 0 }, "resolving imports nothing");

  await Promise.all([serializer.init(), serializer.init()]);
  await serializer.init();
  assert.equal(serializer.loaded, true);
  assert.deepEqual(counts(), { loads: 1, inits: 1 }, "one load, one init() of the implementation");

  const bytes = serializer.serialize(payload);
  assert.equal(bytes[0], 0x7a);
  assert.deepEqual(serializer.deserialize(bytes), payload);
});

Deno.test("a lazy serializer refuses packets before init(), naming the fix", async () => {
  const serializer = resolveSerializerIn(TABLE, { type: "TaggedJSON" });
  for (
    const use of [
      () => serializer.serialize(payload),
      () => serializer.deserialize(new Uint8Array([0x7a])),
    ]
  ) {
    assert.throws(use, (err: unknown) => {
      assert.ok(err instanceof MoleculerError);
      assert.equal(err.type, "SERIALIZER_NOT_READY");
      assert.match(err.message, /TaggedJSON serializer is not loaded yet: await its init\(\)/);
      return true;
    });
  }
  await serializer.init?.();
  assert.deepEqual(serializer.deserialize(serializer.serialize(payload)), payload);
});

Deno.test("{ type, options } hands the options to the lazily loaded implementation", async () => {
  const serializer = resolveSerializerIn(TABLE, { type: "TaggedJSON", options: { tag: 0x21 } });
  await serializer.init?.();
  const bytes = serializer.serialize(payload);
  assert.equal(bytes[0], 0x21);
  assert.deepEqual(serializer.deserialize(bytes), payload);
});

Deno.test("options the implementation refuses fail init() as a BrokerOptionsError", async () => {
  const serializer = resolveSerializerIn(TABLE, { type: "TaggedJSON", options: { tag: 300 } });
  await assert.rejects(async () => await serializer.init?.(), (err: unknown) => {
    assert.ok(err instanceof BrokerOptionsError);
    assert.equal(
      err.message,
      "Option 'serializer.options' is refused by the TaggedJSON serializer: tag must be a byte, got 300",
    );
    return true;
  });
});

Deno.test("a library that cannot be loaded fails init() naming the package, and is retried", async () => {
  const serializer = resolveSerializerIn(TABLE, "Missing");
  for (let attempt = 0; attempt < 2; attempt++) {
    await assert.rejects(async () => await serializer.init?.(), (err: unknown) => {
      assert.ok(err instanceof BrokerOptionsError);
      assert.match(
        err.message,
        /^Cannot load the Missing serializer: .+\. It needs the package 'npm:no-such-codec': add it \(deno add npm:no-such-codec\) or pick another 'serializer'$/,
      );
      assert.ok(err.cause instanceof Error);
      return true;
    });
  }
  assert.equal((serializer as LazySerializer).loaded, false);
});

Deno.test("an eager entry (JSON) is ready at once; init() is not needed", () => {
  const json: Serializer = resolveSerializerIn(TABLE, "JSON");
  assert.ok(!(json instanceof LazySerializer));
  assert.equal(json.init, undefined);
  assert.deepEqual(json.deserialize(json.serialize(payload)), payload);
});

Deno.test("unknown names list every entry of the table", () => {
  assert.throws(() => resolveSerializerIn(TABLE, "Avro"), (err: unknown) => {
    assert.ok(err instanceof BrokerOptionsError);
    assert.equal(
      err.message,
      'Unknown serializer "Avro". Supported serializers: JSON, JSONExt, MsgPack, Notepack, CBOR, ' +
        "TaggedJSON, Missing.",
    );
    return true;
  });
});
