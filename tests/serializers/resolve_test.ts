/** resolveSerializer(): default, names, instances, unknown names. */

import assert from "node:assert/strict";
import { BrokerOptionsError } from "../../src/errors.ts";
import { JSONSerializer } from "../../src/serializers/json.ts";
import { resolveSerializer } from "../../src/serializers/resolve.ts";
import type { Serializer } from "../../src/serializers/serializer.ts";

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
  assert.throws(() => resolveSerializer("MsgPack"), (e: unknown) => {
    assert.ok(e instanceof BrokerOptionsError);
    assert.equal(e.message, 'Unknown serializer "MsgPack". Supported serializers: JSON.');
    return true;
  });
  assert.throws(() => resolveSerializer(5 as unknown as string), BrokerOptionsError);
  assert.throws(() => resolveSerializer({} as unknown as Serializer), BrokerOptionsError);
});
