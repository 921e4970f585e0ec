/** JSONSerializer: byte-compatible with Moleculer's JSON serializer. */

import assert from "node:assert/strict";
import { InvalidPacketDataError } from "../../src/errors.ts";
import { JSONSerializer } from "../../src/serializers/json.ts";

const te = new TextEncoder();
const json = new JSONSerializer();

// A v5 REQ as captured between two Moleculer 0.15 nodes (protocol doc §1), ids written out.
const CAPTURED_REQ = '{"id":"043d5a1e-7f2b-4c1d-9e3a-5b6c7d8e9f00","action":"v2.greeter.hello",' +
  '"params":{"name":"John"},"meta":{"m1":1},"headers":{},"timeout":3000,"level":1,' +
  '"tracing":null,"parentID":null,"requestID":"043d5a1e-7f2b-4c1d-9e3a-5b6c7d8e9f00",' +
  '"caller":null,"stream":false,"ver":"5","sender":"node-a"}';

Deno.test("JSONSerializer.serialize() reproduces a captured Moleculer REQ byte for byte", () => {
  const payload = {
    id: "043d5a1e-7f2b-4c1d-9e3a-5b6c7d8e9f00",
    action: "v2.greeter.hello",
    params: { name: "John" },
    meta: { m1: 1 },
    headers: {},
    timeout: 3000,
    level: 1,
    tracing: null,
    parentID: null,
    requestID: "043d5a1e-7f2b-4c1d-9e3a-5b6c7d8e9f00",
    caller: null,
    stream: false,
    ver: "5",
    sender: "node-a",
  };
  assert.deepEqual(json.serialize(payload), te.encode(CAPTURED_REQ));
  assert.deepEqual(json.deserialize(te.encode(CAPTURED_REQ)), payload);
  assert.equal(json.name, "JSON");
});

Deno.test("JSONSerializer.serialize() matches the other captured packets", () => {
  assert.deepEqual(
    json.serialize({ cpu: 2, ver: "5", sender: "node-b" }),
    te.encode('{"cpu":2,"ver":"5","sender":"node-b"}'),
  );
  assert.deepEqual(
    json.serialize({ ver: "5", sender: "node-b" }),
    te.encode('{"ver":"5","sender":"node-b"}'),
  );
});

Deno.test("JSONSerializer drops undefined keys and keeps null, like JSON.stringify", () => {
  const bytes = json.serialize({
    data: undefined,
    error: null,
    nested: { a: undefined, b: 1 },
    list: [undefined, 2],
    ver: "5",
    sender: "n",
  });
  assert.equal(
    new TextDecoder().decode(bytes),
    '{"error":null,"nested":{"b":1},"list":[null,2],"ver":"5","sender":"n"}',
  );
});

Deno.test("JSONSerializer encodes UTF-8 and Dates as Node does", () => {
  const bytes = json.serialize({ s: "héllo 🚀", d: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) });
  assert.deepEqual(bytes, te.encode('{"s":"héllo 🚀","d":"2024-01-02T03:04:05.006Z"}'));
  assert.deepEqual(json.deserialize(bytes), { s: "héllo 🚀", d: "2024-01-02T03:04:05.006Z" });
});

Deno.test("JSONSerializer.serialize() throws TypeError on BigInt", () => {
  assert.throws(() => json.serialize({ n: 1n }), TypeError);
});

Deno.test("JSONSerializer.deserialize() rejects bad bytes with InvalidPacketDataError", () => {
  const bad: Uint8Array[] = [
    new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), // not UTF-8
    te.encode("{not json"),
    te.encode(""),
    te.encode("[1,2]"),
    te.encode("null"),
    te.encode("42"),
    te.encode('"str"'),
  ];
  for (const data of bad) {
    assert.throws(() => json.deserialize(data), (e: unknown) => {
      assert.ok(e instanceof InvalidPacketDataError);
      assert.equal(e.type, "INVALID_PACKET_DATA");
      return true;
    });
  }
});

Deno.test("JSONSerializer.deserialize() keeps an excerpt of the bad packet", () => {
  const text = `{"x":"${"a".repeat(1000)}`;
  assert.throws(() => json.deserialize(te.encode(text)), (e: unknown) => {
    assert.ok(e instanceof InvalidPacketDataError);
    const packet = (e.data as { packet: string }).packet;
    assert.ok(packet.startsWith('{"x":"aaa'));
    assert.ok(packet.length <= 257);
    assert.ok(e.cause instanceof SyntaxError);
    return true;
  });
});
