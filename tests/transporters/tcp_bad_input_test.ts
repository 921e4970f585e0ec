/**
 * Bad input reaching a TCP node: garbage, a wrong CRC, an oversized frame, a half-open socket, a
 * malformed gossip packet, and a flood of UDP announcements from another namespace. Each is
 * logged once (per cause and sender) and dropped; the node goes on serving its cluster and
 * keeps nothing of it.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { encodeFrame } from "../../src/transporters/tcp/frame.ts";
import { freePort } from "../_helpers/nats_server.ts";
import { startDeno, waitFor } from "../transit/_util.ts";

const te = new TextEncoder();

/** Send bytes on a fresh connection, then wait until the node closes it (or `ms` pass). */
async function sendRaw(
  port: number,
  bytes: Uint8Array,
  halfClose = false,
): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(bytes);
    if (halfClose) await conn.closeWrite();
    const buf = new Uint8Array(16);
    const timer = setTimeout(() => conn.close(), 3000);
    try {
      return (await conn.read(buf)) === null; // the node closed it
    } catch {
      return false; // our own timer closed it
    } finally {
      clearTimeout(timer);
    }
  } finally {
    try {
      conn.close();
    } catch {
      // closed
    }
  }
}

const warnings = (logs: { message: string }[], re: RegExp) =>
  logs.filter((l) => re.test(l.message)).length;

Deno.test("TCP bad input: each cause logged once, dropped, the node keeps serving", async (t) => {
  const pa = freePort();
  const pb = freePort();
  const urls = `127.0.0.1:${pa}/bad-a,127.0.0.1:${pb}/bad-b`;
  const tcp = {
    type: "TCP",
    options: { udpDiscovery: false, urls, gossipPeriod: 0.2 },
  };
  await using a = await startDeno({ nodeID: "bad-a", transporter: tcp });
  await using b = await startDeno({
    nodeID: "bad-b",
    transporter: tcp,
    services: [{
      name: "math",
      actions: { add: (ctx) => (ctx.params as { a: number }).a + 1 },
    }],
  });
  await a.broker.waitForServices("math", 10_000);
  const frame = encodeFrame(
    2,
    te.encode(JSON.stringify({ ver: "5", sender: "x", id: "1" })),
  );

  await t.step(
    "garbage closes the connection, logged once per sender",
    async () => {
      const garbage = te.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal(
        await sendRaw(pb, garbage),
        true,
        "the node closed the connection",
      );
      assert.equal(await sendRaw(pb, garbage), true);
      await waitFor(
        () => warnings(b.logs, /wrong CRC/) === 1,
        "one CRC warning",
      );
      assert.match(
        b.logs.find((l) => /wrong CRC/.test(l.message))!.message,
        /from 127\.0\.0\.1/,
      );
    },
  );

  await t.step(
    "a wrong CRC in a real frame: the same cause, no second line",
    async () => {
      const bad = frame.slice();
      bad[0] = bad[0]! ^ 0x55;
      assert.equal(await sendRaw(pb, bad), true);
      assert.equal(warnings(b.logs, /wrong CRC/), 1);
    },
  );

  await t.step("an oversized frame is refused from its header", async () => {
    const header = encodeFrame(2, new Uint8Array(2 * 1024 * 1024)).subarray(
      0,
      64,
    );
    assert.equal(await sendRaw(pb, header), true);
    await waitFor(
      () => warnings(b.logs, /exceeds maxPacketSize/) === 1,
      "a size warning",
    );
  });

  await t.step(
    "a half-open socket ending mid-frame is closed and logged",
    async () => {
      assert.equal(await sendRaw(pb, frame.subarray(0, 10), true), true);
      await waitFor(
        () => warnings(b.logs, /in the middle of a frame/) === 1,
        "a mid-frame warning",
      );
    },
  );

  await t.step("a malformed gossip packet is dropped", async () => {
    assert.equal(
      await sendRaw(pb, encodeFrame(6, te.encode("{not json")), true),
      true,
    );
    await waitFor(
      () => warnings(b.logs, /malformed GOSSIP_REQ/) === 1,
      "a gossip warning",
    );
  });

  await t.step(
    "the node still serves, and holds no trace of the intruders",
    async () => {
      assert.equal(await a.broker.call("math.add", { a: 41 }), 42);
      assert.deepEqual([...b.broker.registry.nodes.keys()].sort(), [
        "bad-a",
        "bad-b",
      ]);
      const lines = b.logs.filter((l) => l.level === "warn" || l.level === "error").length;
      assert.ok(lines <= 5, `${lines} warnings for 5 causes`);
    },
  );
});

Deno.test("TCP bad input: a UDP flood from a foreign namespace is ignored, logged once", async () => {
  const udpPort = freePort();
  await using node = await startDeno({
    nodeID: "udp-target",
    namespace: "prod",
    transporter: {
      type: "TCP",
      options: { udpPort, udpBindAddress: "127.0.0.1", udpPeriod: 60 },
    },
  });
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  const send = (text: string) =>
    new Promise<void>((r) => socket.send(te.encode(text), udpPort, "127.0.0.1", () => r()));
  try {
    // A few of each kind first (the kernel drops what overflows its buffer), then the flood.
    for (let i = 0; i < 20; i++) await send(`garbage ${i}`);
    await send("x".repeat(5000));
    for (let i = 0; i < 2000; i++) await send(`dev|intruder-${i}|${1000 + i}`);
    await waitFor(
      () =>
        warnings(node.logs, /of namespace 'dev'/) === 1 &&
        warnings(node.logs, /malformed UDP/) === 1,
      "one warning per cause",
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(warnings(node.logs, /of namespace 'dev'/), 1);
    assert.equal(warnings(node.logs, /malformed UDP/), 1);
    assert.equal(warnings(node.logs, /UDP datagram of 5000 bytes/), 1);
    assert.deepEqual([...node.broker.registry.nodes.keys()], ["udp-target"]);
  } finally {
    socket.close();
  }
});
