/**
 * Interop: node lifecycle between Deno brokers and a real Moleculer node over NATS — graceful
 * stop seen as `unexpected: false` both ways, restart with the same nodeID, a SIGKILLed peer
 * rejecting a pending call after the heartbeat timeout, and a Deno node that vanishes without
 * DISCONNECT being marked offline by Node.
 */

import assert from "node:assert/strict";
import {
  type Context,
  RequestRejectedError,
  ServiceNotFoundError,
  type ServiceSchema,
} from "../../mod.ts";
import { NatsTransporter } from "../../src/transporters/nats/mod.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import type { PeerEvent } from "../_helpers/moleculer_peer.ts";
import { interopTest, startDeno, startPeer, timed, waitFor } from "./_shared.ts";

interface NodeEvent {
  event: string;
  nodeID: string;
  unexpected: boolean | undefined;
  reconnected: boolean | undefined;
  at: number;
}

/** A Deno service recording `$node.connected` / `$node.disconnected`. */
function nodeWatcher(seen: NodeEvent[]): ServiceSchema {
  const record = (event: string) => (ctx: Context<Record<string, unknown>>) => {
    const node = ctx.params.node as { id: string };
    seen.push({
      event,
      nodeID: node.id,
      unexpected: ctx.params.unexpected as boolean | undefined,
      reconnected: ctx.params.reconnected as boolean | undefined,
      at: performance.now(),
    });
  };
  return {
    name: "watcher",
    events: {
      "$node.connected": record("$node.connected"),
      "$node.disconnected": record("$node.disconnected"),
    },
  };
}

const peerSaw = (event: string, nodeID: string) => (e: PeerEvent) =>
  e.type === "local-event" && e.event === event && e.nodeID === nodeID;

interopTest("graceful stop and restart are seen both ways", async (t, v) => {
  await using nats = await startNatsServer();
  await using peer = await startPeer(nats, v, "node-l");
  const seen: NodeEvent[] = [];
  const common = {
    transporter: nats.url,
    protocolVersion: v.protocol,
  } as const;
  await using observer = await startDeno({
    ...common,
    nodeID: "deno-obs",
    services: [nodeWatcher(seen)],
  });
  const leaverService = { name: "leaver", actions: { ping: () => "pong" } };
  await using leaver = await startDeno({
    ...common,
    nodeID: "deno-leaver",
    services: [leaverService],
  });
  await observer.broker.waitForServices(["nodemath", "leaver"], 5000);
  await peer.waitForEvent(peerSaw("$node.connected", "deno-leaver"));
  await peer.waitForEvent(peerSaw("$node.connected", "deno-obs"));

  await t.step(
    "Deno stops: Node sees it leave with unexpected=false",
    async () => {
      await leaver.broker.stop();
      const e = await peer.waitForEvent(
        peerSaw("$node.disconnected", "deno-leaver"),
        2000,
      );
      assert.equal(e.unexpected, false);
      const d = await waitFor(
        () => seen.find((s) => s.event === "$node.disconnected" && s.nodeID === "deno-leaver"),
        "the observer to see deno-leaver leave",
      );
      assert.equal(d.unexpected, false);
      const nodes = await peer.nodes();
      assert.equal(nodes.find((n) => n.id === "deno-leaver")?.available, false);
      await assert.rejects(
        peer.call("leaver.ping"),
        (err: unknown) =>
          err instanceof Error &&
          /Service(NotFound|NotAvailable)Error/.test(err.name),
      );
    },
  );

  await t.step(
    "Deno restarts with the same nodeID: Node sees it reconnect",
    async () => {
      await using again = await startDeno({
        ...common,
        nodeID: "deno-leaver",
        services: [leaverService],
      });
      const e = await peer.waitForEvent(
        (x) =>
          peerSaw("$node.connected", "deno-leaver")(x) &&
          x.reconnected === true,
      );
      assert.equal(e.reconnected, true);
      await waitFor(async () => {
        try {
          return (await peer.call("leaver.ping")).data === "pong";
        } catch {
          return false;
        }
      }, "leaver.ping to be callable again");
      const node = (await peer.nodes()).find((n) => n.id === "deno-leaver");
      assert.equal(node?.instanceID, again.broker.instanceID);
    },
  );

  await t.step(
    "Node stops: Deno sees $node.disconnected with unexpected=false promptly",
    async () => {
      // A call in flight when Node leaves is rejected on its DISCONNECT, not left hanging.
      const inFlight = timed(
        observer.broker.call("nodemath.slow", { ms: 60_000 }, {
          timeout: 8000,
        }),
      );
      await waitFor(
        () => observer.broker.transit!.pendingCount === 1,
        "the call to be pending",
      );
      const t0 = performance.now();
      await peer.stop();
      const r = await inFlight;
      assert.ok(r.error instanceof RequestRejectedError, String(r.error));
      const d = await waitFor(
        () => seen.find((s) => s.event === "$node.disconnected" && s.nodeID === "node-l"),
        "the observer to see node-l leave",
        2000,
        5,
      );
      assert.equal(d.unexpected, false);
      assert.ok(d.at - t0 < 1000, `seen after ${Math.round(d.at - t0)} ms`);
      await assert.rejects(
        observer.broker.call("nodemath.add", { a: 1, b: 1 }),
        ServiceNotFoundError,
      );
      const node = observer.broker.registry.nodes.get("node-l");
      assert.equal(node?.available, false);
    },
  );

  await t.step(
    "Node restarts with the same nodeID: Deno sees it reconnect",
    async () => {
      await using again = await startPeer(nats, v, "node-l", {
        services: ["nodemath"],
      });
      const c = await waitFor(
        () =>
          seen.find((s) =>
            s.event === "$node.connected" && s.nodeID === "node-l" &&
            s.reconnected
          ),
        "the observer to see node-l reconnect",
      );
      assert.equal(c.reconnected, true);
      await observer.broker.waitForServices("nodemath", 5000);
      assert.equal(
        await observer.broker.call("nodemath.add", { a: 2, b: 2 }),
        4,
      );
      await again.stop();
    },
  );
});

interopTest(
  "a SIGKILLed peer: the pending call is rejected after the heartbeat timeout",
  async (t, v) => {
    await using nats = await startNatsServer();
    await using peer = await startPeer(nats, v, "node-k", {
      services: ["nodemath"],
    });
    const seen: NodeEvent[] = [];
    const heartbeatTimeout = 2;
    await using deno = await startDeno({
      nodeID: "deno-k",
      transporter: nats.url,
      protocolVersion: v.protocol,
      heartbeatInterval: 0.5,
      heartbeatTimeout,
      services: [nodeWatcher(seen)],
    });
    const broker = deno.broker;
    await broker.waitForServices("nodemath", 5000);

    await t.step(
      "the call rejects with RequestRejectedError, it does not hang",
      async () => {
        const call = timed(
          // The timeout only turns a regression (a hanging call) into a clear failure.
          broker.call("nodemath.slow", { ms: 60_000 }, { timeout: 8000 }),
        );
        await waitFor(
          () => broker.transit!.pendingCount === 1,
          "the request to be pending",
        );
        const t0 = performance.now();
        await peer.kill();
        const r = await call;
        const ms = performance.now() - t0;
        assert.ok(r.error instanceof RequestRejectedError, String(r.error));
        assert.equal(
          (r.error.data as Record<string, unknown>).nodeID,
          "node-k",
        );
        // Offline between 1 and 2 heartbeat timeouts after the last heartbeat.
        assert.ok(
          ms < (2 * heartbeatTimeout + 1) * 1000,
          `rejected after ${Math.round(ms)} ms`,
        );
        const d = seen.find((s) => s.event === "$node.disconnected" && s.nodeID === "node-k");
        assert.equal(d?.unexpected, true);
        assert.equal(broker.transit!.pendingCount, 0);
        await assert.rejects(
          broker.call("nodemath.add", { a: 1, b: 1 }),
          ServiceNotFoundError,
        );
      },
    );
  },
);

interopTest(
  "a Deno node that vanishes without DISCONNECT is marked offline by Node",
  async (t, v) => {
    await using nats = await startNatsServer();
    await using peer = await startPeer(nats, v, "node-v", {
      services: ["nodemath"],
      heartbeatInterval: 1,
      heartbeatTimeout: 1.5,
    });
    const transporter = new NatsTransporter(nats.url);
    await using deno = await startDeno({
      nodeID: "deno-v",
      transporter,
      protocolVersion: v.protocol,
      services: [{ name: "vanishing", actions: { hi: () => "hi" } }],
    });
    await peer.waitForEvent(peerSaw("$node.connected", "deno-v"));

    await t.step(
      "Node sees $node.disconnected with unexpected=true",
      async () => {
        // Drop the connection under the broker: no INFO, no DISCONNECT, no more heartbeats.
        await transporter.disconnect();
        const e = await peer.waitForEvent(
          peerSaw("$node.disconnected", "deno-v"),
          8000,
        );
        assert.equal(e.unexpected, true);
        await deno.broker.stop();
      },
    );
  },
);

interopTest(
  "a NATS server restart: both sides reconnect and calls flow again",
  async (t, v) => {
    await using nats = await startNatsServer();
    await using peer = await startPeer(nats, v, "node-r", {
      services: ["nodemath"],
    });
    await using deno = await startDeno({
      nodeID: "deno-r",
      transporter: nats.url,
      protocolVersion: v.protocol,
      logLevel: "info",
      services: [{ name: "denor", actions: { x: () => "deno" } }],
    });
    await deno.broker.waitForServices("nodemath", 5000);
    await peer.waitForServices("denor", 5000);

    await t.step("calls work both ways after the restart", async () => {
      await nats.restart();
      const retry = async (fn: () => Promise<boolean>) => {
        try {
          return await fn();
        } catch {
          return false;
        }
      };
      await waitFor(
        () => retry(async () => await deno.broker.call("nodemath.add", { a: 1, b: 2 }) === 3),
        "Deno → Node after the restart",
        10_000,
        100,
      );
      await waitFor(
        () => retry(async () => (await peer.call("denor.x", {}, { timeout: 500 })).data === "deno"),
        "Node → Deno after the restart",
        10_000,
        100,
      );
      assert.ok(
        deno.logs.some((e) => e.message.includes("Transporter reconnected")),
      );
      // Neither side marked the other offline: the outage was shorter than the heartbeat timeout.
      assert.equal(deno.broker.registry.nodes.get("node-r")?.available, true);
      assert.ok(!peer.events.some((e) => e.event === "$node.disconnected"));
    });
  },
);

interopTest(
  "a peer restarted under the same nodeID: pending calls to the old process are rejected",
  async (t, v) => {
    await using nats = await startNatsServer();
    const old = await startPeer(nats, v, "node-x", { services: ["nodemath"] });
    await using _old = old;
    await using deno = await startDeno({
      nodeID: "deno-x",
      transporter: nats.url,
      protocolVersion: v.protocol,
      heartbeatTimeout: 10,
    });
    const broker = deno.broker;
    await broker.waitForServices("nodemath", 5000);

    await t.step(
      "rejected as soon as the new instance announces itself",
      async () => {
        const call = timed(
          // The timeout only turns a regression (a hanging call) into a clear failure.
          broker.call("nodemath.slow", { ms: 60_000 }, { timeout: 8000 }),
        );
        await waitFor(
          () => broker.transit!.pendingCount === 1,
          "the request to be pending",
        );
        const oldInstance = broker.registry.nodes.get("node-x")?.instanceID;
        await old.kill();
        const t0 = performance.now();
        await using _fresh = await startPeer(nats, v, "node-x", {
          services: ["nodemath"],
        });
        const r = await call;
        assert.ok(r.error instanceof RequestRejectedError, String(r.error));
        assert.ok(
          performance.now() - t0 < 5000,
          "well before the 10 s heartbeat timeout",
        );
        const node = broker.registry.nodes.get("node-x");
        assert.notEqual(node?.instanceID, oldInstance);
        assert.equal(node?.available, true);
        assert.equal(await broker.call("nodemath.add", { a: 2, b: 3 }), 5);
      },
    );
  },
);
