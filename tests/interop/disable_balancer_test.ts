/**
 * Interop: `disableBalancer: true` with real Moleculer nodes over a private nats-server. Calls
 * without a target travel on `REQB.<action>` and emits on `EVENTB.<group>.<event>`, and NATS queue
 * groups (named after the action / the event group) pick the handler, whether it runs on a Deno or
 * a Node node: an action served by both is balanced across both, each request handled exactly
 * once; an event group with handlers on both nodes gets each emit once.
 *
 * Then a mixed cluster: a Deno node that keeps its built-in balancer next to Moleculer nodes with
 * `disableBalancer: true`. Targeted traffic works both ways; balanced traffic never reaches a node
 * with a balancer, exactly as with a Moleculer node whose balancer is on (checked side by side).
 *
 * A sniffer (a plain NATS subscription to `<prefix>.>`) sees every packet. Counting events is
 * deterministic: a "barrier" broadcast travels the same ordered NATS paths after a burst.
 */

import assert from "node:assert/strict";
import type { Context } from "../../mod.ts";
import { connect } from "../../src/transporters/nats/deno_transport.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import type { MoleculerPeer, PeerEvent } from "../_helpers/moleculer_peer.ts";
import { EventLog, interopTest, type SeenEvent, startDeno, startPeer, waitFor } from "./_shared.ts";

type Rec = Record<string, unknown>;
const N = 20;

interface WirePacket {
  subject: string;
  payload: Rec;
}

/** Every packet under `pattern`, decoded; subscribed once this resolves. */
async function sniffer(url: string, pattern: string) {
  const nc = await connect({ servers: url.replace(/^nats:\/\//, "") });
  const packets: WirePacket[] = [];
  nc.subscribe(pattern, {
    callback: (_err, m) => void packets.push({ subject: m.subject, payload: m.json() }),
  });
  await nc.flush(); // the server has the subscription

  return {
    packets,
    clear() {
      packets.length = 0;
    },
    on(prefix: string): WirePacket[] {
      return packets.filter((p) => p.subject.startsWith(prefix));
    },
    /**
     * Wait for a node's broadcast INFO. A disableBalancer node makes its REQB/EVENTB subscriptions
     * just before it (Moleculer: up to 1 s after start, debounced, while it answers DISCOVER
     * at once), so from then on balanced packets reach it.
     */
    broadcastInfo(topic: string, sender: string): Promise<WirePacket> {
      return waitFor(
        () => packets.find((p) => p.subject === topic && p.payload.sender === sender),
        `a broadcast INFO from ${sender}`,
        10_000,
      );
    },
    async [Symbol.asyncDispose]() {
      await nc.drain();
    },
  };
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));
const stepOf = (data: unknown) => (data as Rec | undefined)?.step;

function tally(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) out[it] = (out[it] ?? 0) + 1;
  return out;
}

/**
 * After this, every event published before it by the Deno node or the peer has been delivered
 * everywhere: each side broadcasts `broadcast.test` (targeted EVENTs, the sender included) and
 * waits until both sides saw both.
 */
async function barrier(
  deno: { broadcast(e: string, d: unknown): Promise<void> },
  denoID: string,
  log: EventLog,
  peer: MoleculerPeer,
  id: string,
): Promise<void> {
  await deno.broadcast("broadcast.test", { barrier: id });
  await peer.broadcast("broadcast.test", { barrier: id });
  for (const from of [denoID, peer.nodeID]) {
    await peer.waitForEvent((e) =>
      e.handler === "broadcast.test" && (e.data as Rec)?.barrier === id && e.nodeID === from
    );
    await log.waitFor(
      (e) => e.handler === "broadcast.test" && (e.data as Rec)?.barrier === id && e.nodeID === from,
      `barrier ${id} from ${from}`,
    );
  }
}

interopTest(
  "disableBalancer: REQB/EVENTB queue groups shared by Deno and Moleculer nodes",
  async (t, v) => {
    await using nats = await startNatsServer();
    await using wire = await sniffer(nats.url, "MOL.>");
    await using peer = await startPeer(nats, v, "node-db", { disableBalancer: true });
    const log = new EventLog();
    const denoServed: string[] = [];
    await using deno = await startDeno({
      nodeID: "deno-db",
      transporter: nats.url,
      protocolVersion: v.protocol,
      disableBalancer: true,
      services: [
        {
          name: "denomath",
          actions: {
            add: (ctx: Context<Rec>) => (ctx.params.a as number) + (ctx.params.b as number),
            whoami: (ctx: Context) => ({ node: "deno-db", caller: ctx.nodeID }),
          },
        },
        // Half of a `nodemath` shared with the Node peer: `nodemath.echo` is served by both.
        {
          name: "nodemath",
          actions: {
            echo(ctx: Context<Rec>) {
              denoServed.push(ctx.id);
              ctx.meta.fromDeno = true;
              return { params: ctx.params, servedBy: "deno-db" };
            },
          },
        },
        // `user.created` in the Node listener's group `grp-node`: one group on both nodes.
        log.service("denolistener", {
          "user.created": "grp-node",
          "user.*": undefined,
          "broadcast.test": undefined,
        }),
      ],
    });
    const broker = deno.broker;
    await waitFor(
      () =>
        broker.registry.actions.get("nodemath.add") &&
        broker.registry.actions.get("nodemath.echo")?.items.length === 2,
      "the Deno node knows the Node services",
    );
    await peer.waitForServices(["denomath", "denolistener"], 5000);
    await wire.broadcastInfo("MOL.INFO", "node-db");
    await wire.broadcastInfo("MOL.INFO", "deno-db");

    const nodeSeen = (step: string, handler?: string): PeerEvent[] =>
      peer.events.filter((e) =>
        e.type === "event" && stepOf(e.data) === step && (!handler || e.handler === handler)
      );
    const denoSeen = (step: string, handler?: string): SeenEvent[] =>
      log.filter((e) => stepOf(e.data) === step && (!handler || e.handler === handler));

    await t.step("Node calls a Deno action through REQB", async () => {
      wire.clear();
      const r = await peer.call("denomath.add", { a: 1, b: 2 });
      assert.equal(r.data, 3);
      assert.equal(r.nodeID, "deno-db", "Moleculer learns the responder from the RES");
      const who = await peer.call("denomath.whoami");
      assert.deepEqual(who.data, { node: "deno-db", caller: "node-db" });
      await settle();
      const reqs = wire.on("MOL.REQB.denomath.");
      assert.equal(reqs.length, 2);
      assert.ok(reqs.every((p) => p.payload.sender === "node-db" && p.payload.ver === v.protocol));
      assert.equal(wire.on("MOL.REQ.").length, 0, "no targeted REQ");
      assert.deepEqual(wire.on("MOL.RES.").map((p) => p.subject), [
        "MOL.RES.node-db",
        "MOL.RES.node-db",
      ]);
    });

    await t.step("Deno calls Node and its own actions through REQB", async () => {
      wire.clear();
      assert.equal(await broker.call("nodemath.add", { a: 2, b: 3 }, { timeout: 5000 }), 5);
      // The Deno node's own action is reached through NATS too.
      assert.equal(await broker.call("denomath.add", { a: 4, b: 5 }, { timeout: 5000 }), 9);
      await settle();
      assert.deepEqual(wire.on("MOL.REQ").map((p) => p.subject), [
        "MOL.REQB.nodemath.add",
        "MOL.REQB.denomath.add",
      ]);
      const [toNode, toSelf] = wire.on("MOL.RES.");
      assert.equal(toNode!.payload.sender, "node-db");
      assert.equal(toSelf!.payload.sender, "deno-db");
      assert.ok(wire.on("MOL.RES.").every((p) => p.subject === "MOL.RES.deno-db"));
      const req = wire.on("MOL.REQB.nodemath.add")[0]!.payload;
      assert.equal(req.ver, v.protocol);
      assert.equal("headers" in req, v.protocol === "5");
      // A targeted call still goes to REQ.<node>.
      wire.clear();
      assert.equal(await broker.call("nodemath.add", { a: 1, b: 1 }, { nodeID: "node-db" }), 2);
      await settle();
      assert.deepEqual(wire.on("MOL.REQ").map((p) => p.subject), ["MOL.REQ.node-db"]);
    });

    await t.step(
      "an action on both nodes is balanced by NATS, each request handled exactly once",
      async () => {
        wire.clear();
        denoServed.length = 0;
        const fromDeno = await Promise.all(
          Array.from({ length: N }, async (_, i) => {
            const meta: Rec = {};
            const data = await broker.call<Rec>("nodemath.echo", { i }, { meta, timeout: 5000 });
            return { data, meta };
          }),
        );
        const fromNode = await Promise.all(
          Array.from({ length: N }, (_, i) => peer.call("nodemath.echo", { i: 100 + i })),
        );
        fromDeno.forEach((r, i) => assert.deepEqual((r.data.params as Rec).i, i));
        fromNode.forEach((r, i) => assert.deepEqual(((r.data as Rec).params as Rec).i, 100 + i));
        // The response meta tells who served a Deno call; Moleculer's ctx.nodeID a Node call.
        for (const r of fromDeno) assert.ok(!!r.meta.fromDeno !== !!r.meta.fromNode, "one server");
        const denoByDeno = fromDeno.filter((r) => r.meta.fromDeno).length;
        const nodeByDeno = fromNode.filter((r) => r.nodeID === "deno-db").length;
        assert.equal(fromNode.filter((r) => r.nodeID === "node-db").length + nodeByDeno, N);
        // Both nodes got a share of both callers' requests (random: all on one side is 2^-39).
        assert.ok(denoByDeno > 0 && denoByDeno < N, `Deno caller: ${denoByDeno}/${N} on Deno`);
        assert.ok(nodeByDeno > 0 && nodeByDeno < N, `Node caller: ${nodeByDeno}/${N} on Deno`);
        assert.equal(denoServed.length, denoByDeno + nodeByDeno, "Deno handled exactly its share");

        // On the wire: 2N REQ on REQB and exactly one RES per request id.
        await waitFor(() => wire.on("MOL.RES.").length >= 2 * N, "all RES sniffed");
        await settle();
        const reqs = wire.on("MOL.REQB.nodemath.echo");
        const res = wire.on("MOL.RES.");
        assert.equal(reqs.length, 2 * N);
        assert.equal(wire.on("MOL.REQ.").length, 0);
        assert.equal(res.length, 2 * N);
        const resIds = tally(res.map((p) => String(p.payload.id)));
        assert.ok(Object.values(resIds).every((n) => n === 1), "one RES per request");
        assert.deepEqual(
          Object.keys(resIds).sort(),
          reqs.map((p) => String(p.payload.id)).sort(),
        );
        assert.deepEqual(
          tally(res.map((p) => String(p.payload.sender))),
          { "deno-db": denoServed.length, "node-db": 2 * N - denoServed.length },
        );
      },
    );

    await t.step(
      "emits: one EVENTB copy per group, exactly one handler per group across the cluster",
      async () => {
        wire.clear();
        for (let i = 0; i < N; i++) await broker.emit("user.created", { step: "d", i });
        for (let i = 0; i < N; i++) await peer.emit("user.created", { step: "n", i });
        await barrier(broker, "deno-db", log, peer, "e1");
        let nodeGrp = 0;
        let denoGrp = 0;
        for (const step of ["d", "n"]) {
          const ng = nodeSeen(step, "user.created").length;
          const dg = denoSeen(step, "user.created").length;
          nodeGrp += ng;
          denoGrp += dg;
          assert.equal(ng + dg, N, `grp-node (${step}): node ${ng} + deno ${dg}`);
          assert.equal(nodeSeen(step, "user.*").length, N, `nodelistener (${step})`);
          assert.equal(denoSeen(step, "user.*").length, N, `denolistener (${step})`);
        }
        assert.ok(nodeGrp > 0 && denoGrp > 0, `grp-node on both: node ${nodeGrp}, deno ${denoGrp}`);
        // Every copy carries one group; the emitter is the context's nodeID.
        for (const e of [...nodeSeen("d"), ...nodeSeen("n")]) {
          assert.equal(e.eventType, "emit");
          assert.equal(e.groups?.length, 1);
          assert.equal(e.nodeID, stepOf(e.data) === "d" ? "deno-db" : "node-db");
        }
        for (const e of [...denoSeen("d"), ...denoSeen("n")]) {
          assert.equal(e.eventType, "emit");
          assert.deepEqual(e.groups, [e.group ?? "denolistener"]);
          assert.equal(e.nodeID, stepOf(e.data) === "d" ? "deno-db" : "node-db");
        }
        // On the wire: per emit, the same 3 EVENTB subjects from both implementations.
        const copies = wire.on("MOL.EVENTB.");
        const bySender = (s: string) =>
          tally(copies.filter((p) => p.payload.sender === s).map((p) => p.subject));
        const expected = {
          "MOL.EVENTB.grp-node.user.created": N,
          "MOL.EVENTB.nodelistener.user.created": N,
          "MOL.EVENTB.denolistener.user.created": N,
        };
        assert.deepEqual(bySender("deno-db"), expected);
        assert.deepEqual(bySender("node-db"), expected);
        for (const p of copies) assert.deepEqual(p.payload.groups, [p.subject.split(".")[2]]);
        assert.ok(
          wire.on("MOL.EVENT.").every((p) => p.payload.event === "broadcast.test"),
          "only the barrier broadcasts are targeted",
        );
      },
    );

    await t.step("groups option, wildcard EVENTB subjects, broadcast including self", async () => {
      await broker.emit("user.updated", { step: "g1" }, { groups: ["nodelistener"] });
      await peer.emit("user.updated", { step: "g2" }, { groups: ["denolistener"] });
      // Node's `deno.**` subscribes to `MOL.EVENTB.nodelistener.deno.>`.
      await broker.emit("deno.deep.event", { step: "w" });
      await broker.broadcast("broadcast.test", { step: "b" });
      await barrier(broker, "deno-db", log, peer, "e2");
      assert.deepEqual(nodeSeen("g1").map((e) => e.handler), ["user.*"]);
      assert.deepEqual(denoSeen("g1"), []);
      assert.deepEqual(denoSeen("g2").map((e) => e.handler), ["user.*"]);
      assert.deepEqual(nodeSeen("g2"), []);
      assert.deepEqual(nodeSeen("w").map((e) => e.handler), ["deno.**"]);
      assert.deepEqual(nodeSeen("w")[0]!.groups, ["nodelistener"]);
      // The broadcast reaches the Node handler and the Deno node's own handler (self EVENT).
      const b = [...nodeSeen("b"), ...denoSeen("b")];
      assert.equal(b.length, 2);
      for (const e of b) {
        assert.equal(e.eventType, "broadcast");
        assert.equal(e.nodeID, "deno-db");
      }
    });
  },
);

interopTest(
  "disableBalancer: a Deno node with its balancer among disableBalancer Moleculer nodes",
  async (t, v) => {
    const ns = "dbmix";
    await using nats = await startNatsServer();
    await using wire = await sniffer(nats.url, `MOL-${ns}.>`);
    // node-off balances through NATS; node-on (the reference) keeps Moleculer's balancer.
    await using off = await startPeer(nats, v, "node-off", {
      namespace: ns,
      disableBalancer: true,
      services: ["nodemath", "listener"],
    });
    await using _nodeOn = await startPeer(nats, v, "node-on", {
      namespace: ns,
      services: ["greeter"],
    });
    const log = new EventLog();
    await using deno = await startDeno({
      nodeID: "deno-on",
      namespace: ns,
      transporter: nats.url,
      protocolVersion: v.protocol,
      services: [
        {
          name: "denomath",
          actions: {
            add: (ctx: Context<Rec>) => (ctx.params.a as number) + (ctx.params.b as number),
          },
        },
        log.service("denolistener", { "user.*": undefined, "broadcast.test": undefined }),
      ],
    });
    const broker = deno.broker;
    await broker.waitForServices(["nodemath", "nodelistener", "v2.greeter"], 5000);
    await off.waitForServices(["denomath", "denolistener", "v2.greeter"], 5000);
    const P = `MOL-${ns}`;
    await wire.broadcastInfo(`${P}.INFO`, "node-off");

    await t.step(
      "the balancer node reaches disableBalancer nodes with targeted packets",
      async () => {
        wire.clear();
        assert.equal(await broker.call("nodemath.add", { a: 1, b: 2 }, { timeout: 5000 }), 3);
        await broker.emit("user.created", { step: "m1" });
        await barrier(broker, "deno-on", log, off, "m1");
        const seen = off.events.filter((e) => stepOf(e.data) === "m1").map((e) => e.handler).sort();
        assert.deepEqual(seen, ["user.*", "user.created"]);
        assert.equal(wire.on(`${P}.REQB.`).length + wire.on(`${P}.EVENTB.`).length, 0);
        assert.equal(wire.on(`${P}.REQ.node-off`).length, 1);
        const ev = wire.on(`${P}.EVENT.node-off`).find((p) => stepOf(p.payload.data) === "m1");
        assert.deepEqual([...(ev!.payload.groups as string[])].sort(), [
          "grp-node",
          "nodelistener",
        ]);
      },
    );

    await t.step("targeted calls and broadcasts from a disableBalancer node work", async () => {
      const r = await off.call("denomath.add", { a: 2, b: 2 }, { nodeID: "deno-on" });
      assert.equal(r.data, 4);
      await off.broadcast("user.bcast", { step: "m2" });
      await log.waitFor((e) => stepOf(e.data) === "m2", "Node's broadcast on Deno");
    });

    await t.step(
      "balanced traffic never reaches a node with a balancer: Deno and Moleculer alike",
      async () => {
        wire.clear();
        // No node with a balancer subscribes to REQB: the call times out, whoever serves it.
        const toDeno = await off.call("denomath.add", { a: 1, b: 1 }, { timeout: 500 })
          .then(() => "resolved", (e: Error) => e.name);
        const toMoleculer = await off.call("v2.greeter.hello", { name: "x" }, { timeout: 500 })
          .then(() => "resolved", (e: Error) => e.name);
        assert.equal(toDeno, "RequestTimeoutError");
        assert.equal(toMoleculer, "RequestTimeoutError");
        assert.deepEqual(wire.on(`${P}.REQ`).map((p) => p.subject), [
          `${P}.REQB.denomath.add`,
          `${P}.REQB.v2.greeter.hello`,
        ]);
        assert.equal(wire.on(`${P}.RES.`).length, 0);
        // Its emits reach its own handlers only: the denolistener copy has no subscriber.
        await off.emit("user.created", { step: "m3" });
        await barrier(broker, "deno-on", log, off, "m3");
        assert.deepEqual(log.filter((e) => stepOf(e.data) === "m3"), []);
        assert.deepEqual(
          off.events.filter((e) => stepOf(e.data) === "m3").map((e) => e.handler).sort(),
          ["user.*", "user.created"],
        );
        assert.deepEqual(
          wire.on(`${P}.EVENTB.`).map((p) => p.subject).sort(),
          [
            `${P}.EVENTB.denolistener.user.created`,
            `${P}.EVENTB.grp-node.user.created`,
            `${P}.EVENTB.nodelistener.user.created`,
          ],
        );
      },
    );
  },
);
