/**
 * Packets this node cannot read are explained, once per sender, and dropped: real Moleculer
 * nodes on NATS that use another serializer (MsgPack on 0.14, CBOR on 0.15), the Compression
 * middleware, or no encryption where this node encrypts. The Deno nodes keep serving each
 * other meanwhile. The byte sniffing itself is checked on fixed bytes first.
 */

import assert from "node:assert/strict";
import { type Context, Encryption } from "../../mod.ts";
import { lookAt } from "../../src/transit/foreign.ts";
import { requirePeers } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { IGNORE, startDeno, startPeer, VERSIONS, waitFor } from "../interop/_shared.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("lookAt: each serializer's first bytes, the compression header, and the sender", () => {
  assert.deepEqual(lookAt(enc('{"ver":"5","sender":"n-1"}')), { format: "JSON", sender: "n-1" });
  // MessagePack { ver: "5", sender: "n1" }: fixmap 2, fixstr keys.
  const msgpack = new Uint8Array([
    0x82,
    0xa3,
    ...enc("ver"),
    0xa1,
    0x35,
    0xa6,
    ...enc("sender"),
    0xa2,
    ...enc("n1"),
  ]);
  assert.deepEqual(lookAt(msgpack), { format: "MessagePack", sender: "n1" });
  // CBOR { sender: "n1" }: map 1, text keys.
  const cbor = new Uint8Array([0xa1, 0x66, ...enc("sender"), 0x62, ...enc("n1")]);
  assert.deepEqual(lookAt(cbor), { format: "CBOR", sender: "n1" });
  assert.deepEqual(lookAt(new Uint8Array([0, ...enc('{"sender":"small"}')])), {
    format: "compressed",
    sender: "small",
  });
  assert.deepEqual(lookAt(new Uint8Array([1, 0x78, 0x9c, 3])), { format: "compressed" });
  assert.deepEqual(lookAt(new Uint8Array(32).fill(0x33)), { format: "unknown" });
  assert.deepEqual(lookAt(enc('{"sender":"bad id*"}')), { format: "JSON" }, "unanswerable");
  assert.deepEqual(lookAt(new Uint8Array([0x88, 1, 2, 3])), { format: "unknown" }, "no sender key");
});

Deno.test({
  name: "foreign packets from real Moleculer nodes: another serializer, compression, no encryption",
  ignore: IGNORE,
  async fn() {
    requirePeers();
    await using nats = await startNatsServer();
    const v14 = VERSIONS.find((v) => v.version === "0.14")!;
    const v15 = VERSIONS.find((v) => v.version === "0.15")!;
    // Protocol 5 Deno nodes: the 0.14 peer's packets would be dropped for their version only
    // after they decode, so its serializer is found first.
    await using msgpack = await startPeer(nats, v14, "node-msgpack", {
      services: ["nodemath"],
      brokerOptions: { serializer: "MsgPack" },
    });
    await using cbor = await startPeer(nats, v15, "node-cbor", {
      services: ["nodemath"],
      brokerOptions: { serializer: "CBOR" },
    });
    await using compressed = await startPeer(nats, v15, "node-compressed", {
      services: ["nodemath"],
      // Small packets (heartbeats) go with the 0x00 header, their sender readable.
      transmit: [{ type: "Compression" }],
    });
    await using plain = await startDeno({
      nodeID: "deno-plain",
      transporter: nats.url,
      services: [{ name: "plain", actions: { ping: (_ctx: Context) => "pong" } }],
    });
    await using encrypted = await startDeno({
      nodeID: "deno-encrypted",
      transporter: nats.url,
      middlewares: [
        Encryption("0123456789abcdef0123456789abcdef", "aes-256-cbc", "iv-of-16-bytes!!"),
      ],
    });

    const warned = (logs: typeof plain.logs, re: RegExp) =>
      logs.filter((l) => l.level === "warn" && re.test(l.message)).map((l) => l.message);
    await waitFor(
      () =>
        warned(plain.logs, /'node-msgpack'.*different serializer/).length &&
        warned(plain.logs, /'node-cbor'.*different serializer/).length &&
        warned(plain.logs, /'node-compressed'.*Compression/).length &&
        // The assertions below read the encrypted node's warning about the plain Deno node.
        warned(encrypted.logs, /'deno-plain'/).length,
      "the warnings",
      8000,
    );
    assert.match(
      warned(plain.logs, /'node-msgpack'/)[0]!,
      /looks? like MessagePack: MsgPack or Notepack\); this node uses JSON/,
    );
    assert.match(warned(plain.logs, /'node-cbor'/)[0]!, /look like CBOR.*this node uses JSON/);
    assert.match(
      warned(encrypted.logs, /'deno-plain'/)[0]!,
      /plain JSON: the sender seems not to use Encryption, which this node does/,
    );

    // Heartbeats keep coming: still one warning per cause and sender.
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of ["node-msgpack", "node-cbor", "node-compressed"]) {
      assert.equal(warned(plain.logs, new RegExp(`'${id}'`)).length, 1, id);
    }
    assert.equal(warned(encrypted.logs, /'deno-plain'/).length, 1);

    // Nothing crashed: the foreign nodes are unknown, the peers still serve each other.
    assert.deepEqual(
      [...plain.broker.registry.nodes.keys()].filter((id) => id.startsWith("node-")),
      [],
    );
    const res = await msgpack.call("nodemath.add", { a: 1, b: 2 });
    assert.equal(res.data, 3);
    void cbor;
    void compressed;
  },
});
