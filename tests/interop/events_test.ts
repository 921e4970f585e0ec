/**
 * Interop: events between a Deno broker and a real Moleculer node over NATS — balanced emit
 * (exactly one handler per group across the cluster), broadcast, wildcard subscriptions on both
 * sides, the `groups` option, and event context (meta, headers, level, caller).
 *
 * Counting is deterministic: after a burst, a "barrier" broadcast travels the same ordered NATS
 * path in both directions; once both sides have seen it, every earlier event has arrived.
 */

import assert from "node:assert/strict";
import { startNatsServer } from "../_helpers/nats_server.ts";
import type { PeerEvent } from "../_helpers/moleculer_peer.ts";
import { EventLog, interopTest, type SeenEvent, startDeno, startPeer } from "./_shared.ts";

type Rec = Record<string, unknown>;
const N = 10;

const stepOf = (data: unknown) => (data as Rec | undefined)?.step;

interopTest(
  "events: balanced emit, broadcast, wildcards, groups option, context",
  async (t, v) => {
    await using nats = await startNatsServer();
    await using peer = await startPeer(nats, v, "node-e");
    const log = new EventLog();
    await using deno = await startDeno({
      nodeID: "deno-e",
      transporter: nats.url,
      protocolVersion: v.protocol,
      // Balance between local and remote endpoints of a group (Moleculer's default prefers local).
      registry: { preferLocal: false },
      services: [
        log.service("denolistener", {
          "user.created": "grp-deno",
          "user.*": undefined,
          "node.**": undefined,
          "broadcast.test": undefined,
        }),
        // A Deno handler in the same group as the Node `user.created` handler.
        log.service("denogrpnode", { "user.created": "grp-node" }),
      ],
    });
    const broker = deno.broker;
    await broker.waitForServices(["nodelistener", "nodemath"], 5000);
    await peer.waitForServices(["denolistener", "denogrpnode"], 5000);

    let barriers = 0;
    /** Both directions: every event sent before this call has been delivered on both sides. */
    async function barrier(): Promise<void> {
      const id = ++barriers;
      await broker.broadcast("broadcast.test", { barrier: id });
      await peer.broadcast("broadcast.test", { barrier: id });
      await peer.waitForEvent((e) =>
        e.handler === "broadcast.test" && (e.data as Rec)?.barrier === id &&
        e.nodeID === "deno-e"
      );
      await log.waitFor((e) =>
        e.handler === "broadcast.test" && (e.data as Rec)?.barrier === id &&
        e.nodeID === "node-e"
      );
    }
    const nodeSeen = (step: string, handler?: string): PeerEvent[] =>
      peer.events.filter((e) =>
        e.type === "event" && stepOf(e.data) === step &&
        (!handler || e.handler === handler)
      );
    const denoSeen = (
      step: string,
      service?: string,
      handler?: string,
    ): SeenEvent[] =>
      log.filter((e) =>
        stepOf(e.data) === step && (!service || e.service === service) &&
        (!handler || e.handler === handler)
      );

    await t.step(
      "Deno emits: exactly one handler per group across the cluster",
      async () => {
        for (let i = 0; i < N; i++) {
          await broker.emit("user.created", { step: "e1", i });
        }
        await barrier();
        const nodeGrp = nodeSeen("e1", "user.created").length;
        const denoGrp = denoSeen("e1", "denogrpnode").length;
        assert.equal(
          nodeGrp + denoGrp,
          N,
          `grp-node: node ${nodeGrp} + deno ${denoGrp}`,
        );
        assert.ok(
          nodeGrp > 0 && denoGrp > 0,
          "the group is balanced across both nodes",
        );
        assert.equal(
          denoSeen("e1", "denolistener", "user.created").length,
          N,
          "grp-deno",
        );
        assert.equal(
          denoSeen("e1", "denolistener", "user.*").length,
          N,
          "denolistener user.*",
        );
        assert.equal(nodeSeen("e1", "user.*").length, N, "nodelistener user.*");
        const e = nodeSeen("e1", "user.created")[0]!;
        assert.equal(e.nodeID, "deno-e");
        assert.equal(e.eventType, "emit");
        assert.equal(e.event, "user.created");
        assert.deepEqual([...(e.groups ?? [])].sort(), [
          "grp-node",
          "nodelistener",
        ]);
      },
    );

    await t.step(
      "Node emits: exactly one handler per group across the cluster",
      async () => {
        for (let i = 0; i < N; i++) {
          await peer.emit("user.created", {
            step: "e2",
            i,
          });
        }
        await barrier();
        const nodeGrp = nodeSeen("e2", "user.created").length;
        const denoGrp = denoSeen("e2", "denogrpnode").length;
        assert.equal(
          nodeGrp + denoGrp,
          N,
          `grp-node: node ${nodeGrp} + deno ${denoGrp}`,
        );
        assert.equal(
          denoSeen("e2", "denolistener", "user.created").length,
          N,
          "grp-deno",
        );
        assert.equal(
          denoSeen("e2", "denolistener", "user.*").length,
          N,
          "denolistener user.*",
        );
        assert.equal(nodeSeen("e2", "user.*").length, N, "nodelistener user.*");
        const e = denoSeen("e2", "denolistener", "user.created")[0]!;
        assert.equal(e.nodeID, "node-e");
        assert.equal(e.eventType, "emit");
        assert.ok(e.groups?.includes("grp-deno"), JSON.stringify(e.groups));
      },
    );

    await t.step(
      "broadcast reaches every handler on every node, both ways",
      async () => {
        await broker.broadcast("user.created", { step: "b1" });
        await peer.broadcast("user.created", { step: "b2" });
        await barrier();
        for (const step of ["b1", "b2"]) {
          assert.equal(
            nodeSeen(step, "user.created").length,
            1,
            `${step} node user.created`,
          );
          assert.equal(
            nodeSeen(step, "user.*").length,
            1,
            `${step} node user.*`,
          );
          assert.equal(
            denoSeen(step, "denogrpnode").length,
            1,
            `${step} deno grp-node`,
          );
          assert.equal(
            denoSeen(step, "denolistener", "user.created").length,
            1,
            `${step} grp-deno`,
          );
          assert.equal(
            denoSeen(step, "denolistener", "user.*").length,
            1,
            `${step} deno user.*`,
          );
        }
        const atNode = nodeSeen("b1", "user.created")[0]!;
        assert.equal(atNode.eventType, "broadcast");
        assert.equal(atNode.nodeID, "deno-e");
        const atDeno = denoSeen("b2", "denogrpnode")[0]!;
        assert.equal(atDeno.eventType, "broadcast");
        assert.equal(atDeno.nodeID, "node-e");
      },
    );

    await t.step("wildcard subscriptions match on both sides", async () => {
      await broker.emit("user.updated", { step: "w1" });
      await broker.emit("deno.a.b.c", { step: "w2" });
      await peer.emit("node.x.y", { step: "w3" });
      await peer.emit("user.deleted", { step: "w4" });
      await peer.emit("user.deep.name", { step: "w5" });
      await broker.emit("user.deep.name", { step: "w6" });
      await barrier();
      // Node's `user.*` and `deno.**` match what Deno emits.
      assert.equal(nodeSeen("w1", "user.*").length, 1);
      assert.equal(nodeSeen("w1", "user.created").length, 0);
      assert.equal(nodeSeen("w1")[0]?.event, "user.updated");
      assert.equal(nodeSeen("w2", "deno.**").length, 1);
      assert.equal(nodeSeen("w2")[0]?.event, "deno.a.b.c");
      // Deno's `node.**` and `user.*` match what Node emits.
      assert.equal(denoSeen("w3", "denolistener", "node.**").length, 1);
      assert.equal(denoSeen("w3")[0]?.event, "node.x.y");
      assert.equal(denoSeen("w4", "denolistener", "user.*").length, 1);
      assert.equal(denoSeen("w4", "denolistener", "user.created").length, 0);
      // `*` does not cross a dot on either side.
      assert.equal(denoSeen("w5").length, 0);
      assert.equal(nodeSeen("w5").length, 0);
      assert.equal(nodeSeen("w6").length, 0);
      assert.equal(denoSeen("w6").length, 0);
    });

    await t.step("the groups option limits delivery, both ways", async () => {
      await broker.emit("user.created", { step: "g1" }, {
        groups: ["grp-deno"],
      });
      await broker.emit("user.created", { step: "g2" }, {
        groups: ["grp-node"],
      });
      await peer.emit("user.created", { step: "g3" }, { groups: ["grp-deno"] });
      await peer.emit("user.created", { step: "g4" }, {
        groups: "nodelistener",
      });
      await barrier();
      // g1: only Deno's grp-deno handler.
      assert.deepEqual(
        denoSeen("g1").map((e) => e.group),
        ["grp-deno"],
      );
      assert.equal(nodeSeen("g1").length, 0);
      // g2: exactly one grp-node handler, on either node.
      const g2 = nodeSeen("g2").length + denoSeen("g2").length;
      assert.equal(g2, 1);
      assert.equal(
        denoSeen("g2").filter((e) => e.service !== "denogrpnode").length,
        0,
      );
      for (const e of nodeSeen("g2")) {
        assert.equal(e.handler, "user.created");
        assert.deepEqual(e.groups, ["grp-node"]);
      }
      // g3: Node sends to Deno's grp-deno only.
      assert.deepEqual(denoSeen("g3").map((e) => e.group), ["grp-deno"]);
      assert.deepEqual(denoSeen("g3")[0]?.groups, ["grp-deno"]);
      assert.equal(nodeSeen("g3").length, 0);
      // g4: Node's own user.* group only.
      assert.equal(denoSeen("g4").length, 0);
      assert.deepEqual(nodeSeen("g4").map((e) => e.handler), ["user.*"]);
    });

    await t.step(
      "event context: meta and headers travel, child events keep the lineage",
      async () => {
        await broker.emit("deno.meta", { step: "c1" }, { meta: { em: 1 } });
        await peer.emit("node.meta", { step: "c2" }, {
          meta: { nm: 2 },
          headers: { nh: "x" },
        });
        // Deno → Node relayEmit → Deno: a child event of Node's context.
        await broker.call("nodemath.relayEmit", {
          event: "node.child",
          data: { step: "c3" },
        }, {
          meta: { root: true },
        });
        await barrier();
        assert.deepEqual(nodeSeen("c1")[0]?.meta, { em: 1 });
        const c2 = denoSeen("c2")[0]!;
        assert.deepEqual(c2.meta, { nm: 2 });
        assert.deepEqual(c2.headers, v.protocol === "5" ? { nh: "x" } : {});
        assert.equal(c2.level, 1);
        const c3 = denoSeen("c3")[0]!;
        assert.equal(c3.event, "node.child");
        assert.equal(c3.level, 2);
        assert.equal(c3.caller, "nodemath");
        assert.equal(c3.nodeID, "node-e");
        assert.equal(typeof c3.parentID, "string");
        assert.equal(
          c3.parentID,
          c3.requestID,
          "the parent is the root call (its id is the REQ id)",
        );
        assert.deepEqual(c3.meta, { root: true });
      },
    );
  },
);
