/** resolveSerializer(): default, names, instances, unknown names. */

import assert from "node:assert/strict";
import { BrokerOptionsError } from "../../src/errors.ts";
import { JSONSerializer } from "../../src/serializers/json.ts";
import { resolveSerializer } from "../../src/serializers/resolve.ts";
import type { Serializer } from "../../src/serializers/serializer.ts";
import { ServiceBroker } from "../../mod.ts";
import { clusterOptions, memoryBus, scoped, startCluster } from "../_helpers/core.ts";

Deno.test("resolveSerializer() defaults to JSON and accepts the name in any case", () => {
  assert.ok(resolveSerializer() instanceof JSONSerializer);
  assert.ok(resolveSerializer("JSON") instanceof JSONSerializer);
  assert.ok(resolveSerializer("json") instanceof JSONSerializer);
});

Deno.test("resolveSerializer() passes an instance through", () => {
  const custom: Serializer = {
    name: "Custom",
    serialize: () => new Uint8Array(),
    deserialize: () => ({}),
  };
  assert.equal(resolveSerializer(custom), custom);
});

Deno.test("resolveSerializer() rejects unknown names, listing the supported ones", () => {
  assert.throws(() => resolveSerializer("Avro"), (e: unknown) => {
    assert.ok(e instanceof BrokerOptionsError);
    assert.equal(
      e.message,
      'Unknown serializer "Avro". Supported serializers: JSON, JSONExt, MsgPack, Notepack, CBOR.',
    );
    return true;
  });
  assert.throws(() => resolveSerializer(5 as unknown as string), BrokerOptionsError);
  assert.throws(() => resolveSerializer({} as unknown as Serializer), BrokerOptionsError);
});

Deno.test("resolveSerializer() takes Moleculer's { type, options }", () => {
  assert.ok(resolveSerializer({ type: "JSON" }) instanceof JSONSerializer);
  assert.ok(resolveSerializer({ type: " json ", options: {} }) instanceof JSONSerializer);
});

Deno.test("resolveSerializer() names what is wrong in a { type, options }", () => {
  const cases: [unknown, string][] = [
    [
      { type: "Avro" },
      'Unknown serializer "Avro". Supported serializers: JSON, JSONExt, MsgPack, Notepack, CBOR.',
    ],
    [
      { type: "JSON", opts: {} },
      "Unknown broker option 'serializer.opts'. A serializer with options is written " +
      '{ type: "JSON" | "JSONExt" | "MsgPack" | "Notepack" | "CBOR", options }',
    ],
    [{ type: "JSON", options: "fast" }, "Option 'serializer.options' must be an object"],
    [
      { type: "JSON", options: { space: 2 } },
      "Unknown broker option 'serializer.options.space': the JSON serializer takes no options",
    ],
    [
      { type: 5 },
      "Invalid serializer option: expected a serializer instance, { type, options } or one of " +
      "JSON, JSONExt, MsgPack, Notepack, CBOR, got an object without serialize()/deserialize().",
    ],
  ];
  for (const [option, message] of cases) {
    assert.throws(() => resolveSerializer(option as never), (e: unknown) => {
      assert.ok(e instanceof BrokerOptionsError, String(e));
      assert.equal(e.message, message);
      return true;
    });
  }
});

Deno.test("a broker takes the serializer as { type }, and refuses an unknown one in its constructor", async () => {
  const bus = memoryBus();
  await using a = scoped(clusterOptions("a", bus, { serializer: { type: "json" } }));
  await using b = scoped(clusterOptions("b", bus, { serializer: "JSON" }));
  b.createService({ name: "echo", actions: { say: (ctx) => ctx.params } });
  await startCluster([a, b], ["echo"]);
  assert.deepEqual(await a.call("echo.say", { text: "héllo" }), { text: "héllo" });
  assert.throws(
    () => new ServiceBroker({ logger: false, transporter: bus, serializer: { type: "Avro" } }),
    (e: unknown) => e instanceof BrokerOptionsError && /Unknown serializer "Avro"/.test(e.message),
  );
});
