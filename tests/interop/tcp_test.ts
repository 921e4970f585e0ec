/**
 * Interop: a serverless cluster of Deno brokers and a real Moleculer node over the TCP
 * transporter — static `urls` (deterministic) for Moleculer 0.14 and 0.15, and UDP discovery on
 * loopback. One cluster per scenario: discovery both ways (gossip), calls both ways with meta
 * and errors, events with groups, broadcast, `$node.list`, ping, a Deno node's graceful stop
 * seen by Node, and a SIGKILLed peer whose pending call is rejected.
 */

import assert from "node:assert/strict";
import { MoleculerClientError, RequestRejectedError, type ServiceSchema } from "../../mod.ts";
import { freePort } from "../_helpers/nats_server.ts";
import {
  type MoleculerPeer,
  PeerCallError,
  type PeerEvent,
  startMoleculerPeer,
} from "../_helpers/moleculer_peer.ts";
import {
  EventLog,
  IGNORE,
  interopTest,
  startDeno,
  timed,
  type VersionCase,
  VERSIONS,
  waitFor,
} from "./_shared.ts";
import { requirePeers } from "../_helpers/moleculer_peer.ts";

type Rec = Record<string, unknown>;

const denoMath: ServiceSchema = {
  name: "denomath",
  actions: {
    add: (ctx) =>
      (ctx.params as { a: number; b: number }).a +
      (ctx.params as { b: number }).b,
    echo: (ctx) => {
      ctx.meta.fromDeno = true;
      return { params: ctx.params, meta: { ...ctx.meta }, nodeID: ctx.nodeID };
    },
    fail: () => {
      throw new MoleculerClientError("deno says no", 422, "DENO_NO", { y: 2 });
    },
  },
};

const peerSaw = (event: string, nodeID: string) => (e: PeerEvent) =>
  e.type === "local-event" && e.event === event && e.nodeID === nodeID;

/** A Moleculer peer on the TCP transporter with these options. */
function startTcpPeer(
  v: VersionCase,
  nodeID: string,
  options: Rec,
): Promise<MoleculerPeer> {
  return startMoleculerPeer({
    version: v.version,
    nodeID,
    transporter: "TCP",
    brokerOptions: {
      transporter: { type: "TCP", options: { gossipPeriod: 1, ...options } },
    },
  });
}

interopTest(
  "TCP with static urls: the whole protocol both ways",
  async (t, v) => {
    const ports = { deno: freePort(), leaver: freePort(), node: freePort() };
    const urls = `127.0.0.1:${ports.deno}/deno-t,127.0.0.1:${ports.leaver}/deno-leaver,` +
      `127.0.0.1:${ports.node}/node-t`;
    const tcp = {
      type: "TCP",
      options: { udpDiscovery: false, urls, gossipPeriod: 0.5 },
    };
    await using peer = await startTcpPeer(v, "node-t", {
      udpDiscovery: false,
      urls,
    });
    const log = new EventLog();
    await using deno = await startDeno({
      nodeID: "deno-t",
      transporter: tcp,
      protocolVersion: v.protocol,
      services: [
        denoMath,
        log.service("denolistener", {
          "user.created": "grp-deno",
          "broadcast.test": undefined,
        }),
      ],
    });
    await using leaver = await startDeno({
      nodeID: "deno-leaver",
      transporter: tcp,
      protocolVersion: v.protocol,
      services: [{ name: "leaver", actions: { ping: () => "pong" } }],
    });
    const broker = deno.broker;

    await t.step("discovery both ways, by gossip", async () => {
      await broker.waitForServices([
        "nodemath",
        "v2.greeter",
        "nodelistener",
        "leaver",
      ], 10_000);
      await peer.waitForServices(
        ["denomath", "denolistener", "leaver"],
        10_000,
      );
      await peer.waitForEvent(peerSaw("$node.connected", "deno-t"), 5_000);
    });

    await t.step("calls both ways, with meta and errors", async () => {
      const res = await broker.call("nodemath.echo", { x: 1 }, {
        meta: { from: "deno" },
      }) as Rec;
      assert.deepEqual(res.params, { x: 1 });
      assert.equal((res.meta as Rec).from, "deno");
      await assert.rejects(broker.call("nodemath.fail"), (err: unknown) => {
        assert.ok(err instanceof Error);
        const e = err as Error & { code: number; type: string; data: unknown };
        assert.equal(e.message, "bad thing");
        assert.equal(e.code, 418);
        assert.equal(e.type, "TEAPOT");
        assert.deepEqual(e.data, { x: 1 });
        return true;
      });
      assert.equal(
        await broker.call("v2.greeter.hello", { name: "tcp" }),
        "Hello, tcp! (from node)",
      );

      const back = await peer.call("denomath.echo", { y: 2 }, {
        meta: { from: "node" },
      });
      assert.deepEqual((back.data as Rec).params, { y: 2 });
      assert.equal(((back.data as Rec).meta as Rec).from, "node");
      assert.equal(
        back.meta.fromDeno,
        true,
        "the response meta is merged on the Node side",
      );
      assert.equal(back.nodeID, "deno-t");
      assert.equal(
        (await peer.call("denomath.add", { a: 20, b: 22 })).data,
        42,
      );
      await assert.rejects(peer.call("denomath.fail"), (err: unknown) => {
        assert.ok(err instanceof PeerCallError);
        assert.equal(err.message, "deno says no");
        assert.equal(err.code, 422);
        assert.equal(err.type, "DENO_NO");
        assert.deepEqual(err.data, { y: 2 });
        assert.equal(err.nodeID, "deno-t");
        return true;
      });
      // A call Node relays back to Deno: both directions on one request chain.
      const relayed = await broker.call("nodemath.relay", {
        action: "denomath.add",
        params: { a: 1, b: 2 },
      });
      assert.equal(relayed, 3);
    });

    await t.step("events with groups, and broadcast, both ways", async () => {
      await broker.emit("user.created", { n: 1 });
      const got = await peer.waitForEvent((e) =>
        e.type === "event" && e.handler === "user.created" &&
        (e.data as Rec)?.n === 1
      );
      // One EVENT per node, naming every group that chose it (`user.*` is in "nodelistener").
      assert.deepEqual([...got.groups ?? []].sort(), [
        "grp-node",
        "nodelistener",
      ]);
      assert.equal(got.eventType, "emit");
      await peer.emit("user.created", { n: 2 });
      const mine = await log.waitFor((e) => e.handler === "user.created" && stepOf(e.data) === 2);
      assert.equal(mine.nodeID, "node-t");
      assert.deepEqual(mine.groups, ["grp-deno"]);

      await broker.broadcast("broadcast.test", { b: 1 });
      const b1 = await peer.waitForEvent((e) =>
        e.type === "event" && e.handler === "broadcast.test" &&
        (e.data as Rec)?.b === 1
      );
      assert.equal(b1.eventType, "broadcast");
      await peer.broadcast("broadcast.test", { b: 2 });
      const b2 = await log.waitFor((e) => e.handler === "broadcast.test" && bOf(e.data) === 2);
      assert.equal(b2.eventType, "broadcast");
      assert.equal(b2.nodeID, "node-t");
      const fromNode = log.filter((e) => e.handler === "user.created" && stepOf(e.data) === 2);
      assert.equal(fromNode.length, 1, "one copy per group");
    });

    await t.step("$node.list and ping, both ways", async () => {
      const nodes = await peer.nodes();
      const seen = nodes.find((n) => n.id === "deno-t");
      assert.equal(seen?.available, true);
      const mine = await broker.call("$node.list") as Rec[];
      assert.equal(mine.find((n) => n.id === "node-t")?.available, true);
      const pong = await broker.ping("node-t", 2000) as Rec | null;
      assert.equal(pong?.nodeID, "node-t");
      const back = await peer.ping("deno-t", 2000) as Rec | null;
      assert.equal(back?.nodeID, "deno-t");
    });

    await t.step("a Deno node's graceful stop is seen by Node", async () => {
      await peer.waitForEvent(peerSaw("$node.connected", "deno-leaver"), 5_000);
      await leaver.broker.stop();
      const e = await peer.waitForEvent(
        peerSaw("$node.disconnected", "deno-leaver"),
        5_000,
      );
      assert.equal(e.unexpected, false);
      const nodes = await peer.nodes();
      assert.equal(nodes.find((n) => n.id === "deno-leaver")?.available, false);
    });

    await t.step(
      "a SIGKILLed peer: the pending call is rejected, not left hanging",
      async () => {
        const call = timed(
          broker.call("nodemath.slow", { ms: 60_000 }, { timeout: 15_000 }),
        );
        await waitFor(
          () => broker.transit!.pendingCount === 1,
          "the call to be pending",
        );
        const t0 = performance.now();
        await peer.kill();
        const r = await call;
        assert.ok(r.error instanceof RequestRejectedError, String(r.error));
        assert.ok(
          performance.now() - t0 < 3000,
          "rejected when its connection ended",
        );
        assert.equal(broker.registry.nodes.get("node-t")?.available, false);
      },
    );
  },
);

Deno.test({
  name: "interop Moleculer 0.15 (protocol 5): TCP with UDP discovery on loopback",
  ignore: IGNORE,
  async fn(t) {
    requirePeers();
    const v = VERSIONS.find((x) => x.version === "0.15")!;
    const udpPort = freePort();
    const udp = {
      udpDiscovery: true,
      udpPort,
      udpBindAddress: "127.0.0.1",
      udpPeriod: 1,
    };
    await using peer = await startTcpPeer(v, "node-u", udp);
    await using deno = await startDeno({
      nodeID: "deno-u",
      transporter: { type: "TCP", options: { ...udp, gossipPeriod: 0.5 } },
      protocolVersion: v.protocol,
      services: [denoMath],
    });
    await t.step("each side finds the other, and calls it", async () => {
      await deno.broker.waitForServices(["nodemath"], 10_000);
      await peer.waitForServices(["denomath"], 10_000);
      assert.equal(await deno.broker.call("nodemath.add", { a: 2, b: 3 }), 5);
      assert.equal((await peer.call("denomath.add", { a: 4, b: 5 })).data, 9);
    });
  },
});

function stepOf(data: unknown): unknown {
  return (data as Rec | undefined)?.n;
}

function bOf(data: unknown): unknown {
  return (data as Rec | undefined)?.b;
}
