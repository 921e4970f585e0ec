/**
 * Interop: discovery between a Deno broker and a real Moleculer node over NATS — `$node.list`,
 * `$node.services`, versioned services, ping both ways, a service registered after start, and a
 * protocol-version mismatch.
 */

import assert from "node:assert/strict";
import { type Context, ServiceNotFoundError, VERSION } from "../../mod.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { type MoleculerPeer, PeerCallError } from "../_helpers/moleculer_peer.ts";
import { interopTest, startDeno, startPeer, waitFor } from "./_shared.ts";

type Rec = Record<string, unknown>;

const denoServices = [
  {
    name: "denomath",
    actions: {
      mul: {
        params: { a: "number", b: "number" },
        handler: (ctx: Context<{ a: number; b: number }>) => ctx.params.a * ctx.params.b,
      },
    },
  },
  {
    name: "denogreeter",
    version: 3,
    actions: {
      hello: {
        params: { name: "string" },
        handler: (ctx: Context<{ name: string }>) => `Hi ${ctx.params.name}, from deno`,
      },
    },
  },
];

function byId(list: Rec[], id: string): Rec {
  const n = list.find((x) => x.id === id);
  assert.ok(n, `node '${id}' in ${JSON.stringify(list.map((x) => x.id))}`);
  return n;
}

function byFullName(list: Rec[], fullName: string): Rec {
  const s = list.find((x) => x.fullName === fullName);
  assert.ok(
    s,
    `service '${fullName}' in ${JSON.stringify(list.map((x) => x.fullName))}`,
  );
  return s;
}

/** Whether the peer's registry has an available service (polled faster than waitForServices). */
async function peerHasService(
  peer: MoleculerPeer,
  fullName: string,
): Promise<boolean> {
  const { data } = await peer.call("$node.services", { onlyAvailable: true }, {
    nodeID: peer.nodeID,
  });
  return (data as Rec[]).some((s) => s.fullName === fullName);
}

interopTest(
  "discovery, $node.list/$node.services, versioned services, ping",
  async (t, v) => {
    await using nats = await startNatsServer();
    await using peer = await startPeer(nats, v, "node-a");
    await using deno = await startDeno({
      nodeID: "deno-a",
      transporter: nats.url,
      protocolVersion: v.protocol,
      services: denoServices,
    });
    const broker = deno.broker;
    await broker.waitForServices(
      ["nodemath", "v2.greeter", "nodelistener"],
      5000,
    );
    await peer.waitForServices(["denomath", "v3.denogreeter"], 5000);

    await t.step("Deno $node.list shows the Node peer", async () => {
      const list = await broker.call<Rec[]>("$node.list");
      const node = byId(list, "node-a");
      assert.equal(node.available, true);
      assert.equal(node.local, false);
      const client = node.client as Rec;
      assert.equal(client.type, "nodejs");
      assert.match(
        String(client.version),
        new RegExp(`^${v.version.replace(".", "\\.")}\\.`),
      );
      assert.equal(byId(list, "deno-a").local, true);
    });

    await t.step(
      "Node nodes() shows the Deno node with client.type 'deno'",
      async () => {
        const list = await peer.nodes();
        const node = byId(list, "deno-a");
        assert.equal(node.available, true);
        assert.equal(node.local, false);
        assert.deepEqual(node.client, {
          type: "deno",
          version: VERSION,
          langVersion: Deno.version.deno,
        });
        assert.equal(node.instanceID, broker.instanceID);
      },
    );

    await t.step(
      "each side's $node.list is callable remotely by the other",
      async () => {
        // Served by Node, asked by Deno.
        const fromNode = await broker.call<Rec[]>("$node.list", {}, {
          nodeID: "node-a",
        });
        assert.equal(byId(fromNode, "node-a").local, true);
        assert.equal(byId(fromNode, "deno-a").local, false);
        // Served by Deno, asked by Node.
        const fromDeno = await peer.call("$node.list", {}, {
          nodeID: "deno-a",
        });
        assert.equal(fromDeno.nodeID, "deno-a");
        const list = fromDeno.data as Rec[];
        assert.equal(byId(list, "deno-a").local, true);
        assert.equal(byId(list, "node-a").local, false);
      },
    );

    await t.step(
      "Deno $node.services lists the Node services, versioned one included",
      async () => {
        const services = await broker.call<Rec[]>("$node.services", {
          skipInternal: true,
        });
        const math = byFullName(services, "nodemath");
        assert.deepEqual(math.nodes, ["node-a"]);
        assert.equal(math.local, false);
        const greeter = byFullName(services, "v2.greeter");
        assert.equal(greeter.name, "greeter");
        assert.equal(greeter.version, 2);
        assert.deepEqual(greeter.nodes, ["node-a"]);
        assert.ok(byFullName(services, "denomath").local);
      },
    );

    await t.step(
      "Node $node.services lists the Deno services with their actions",
      async () => {
        const { data } = await peer.call("$node.services", {
          skipInternal: true,
          withActions: true,
        }, { nodeID: "node-a" });
        const services = data as Rec[];
        const math = byFullName(services, "denomath");
        assert.deepEqual(math.nodes, ["deno-a"]);
        assert.ok(
          (math.actions as Rec)["denomath.mul"],
          "denomath.mul announced",
        );
        const greeter = byFullName(services, "v3.denogreeter");
        assert.equal(greeter.name, "denogreeter");
        assert.equal(greeter.version, 3);
        const hello = (greeter.actions as Rec)["v3.denogreeter.hello"] as Rec;
        assert.equal(hello.rawName, "hello");
        assert.equal(hello.name, "v3.denogreeter.hello");
      },
    );

    await t.step("versioned services are callable both ways", async () => {
      assert.equal(
        await broker.call("v2.greeter.hello", { name: "Deno" }),
        "Hello, Deno! (from node)",
      );
      const res = await peer.call("v3.denogreeter.hello", { name: "Node" });
      assert.equal(res.data, "Hi Node, from deno");
      assert.equal(res.nodeID, "deno-a");
      assert.equal((await peer.call("denomath.mul", { a: 6, b: 7 })).data, 42);
    });

    await t.step("Deno pings Node", async () => {
      const pong = await broker.ping("node-a", 2000);
      assert.ok(pong, "pong received");
      assert.equal(pong.nodeID, "node-a");
      assert.ok(
        pong.elapsedTime >= 0 && pong.elapsedTime < 2000,
        `elapsedTime ${pong.elapsedTime}`,
      );
      assert.equal(typeof pong.timeDiff, "number");
      const all = await broker.ping();
      assert.deepEqual(Object.keys(all), ["node-a"]);
      assert.equal(all["node-a"]?.nodeID, "node-a");
    });

    await t.step("Node pings Deno", async () => {
      const pong = await peer.ping("deno-a", 2000) as Rec | null;
      assert.ok(pong, "pong received");
      assert.equal(pong.nodeID, "deno-a");
      assert.equal(typeof pong.elapsedTime, "number");
      assert.ok((pong.elapsedTime as number) < 2000);
      assert.equal(typeof pong.timeDiff, "number");
    });

    await t.step(
      "a Deno service registered after start becomes callable from Node",
      async () => {
        const seqBefore = byId(await peer.nodes(), "deno-a").seq as number;
        await broker.register({
          name: "latecomer",
          actions: {
            hi: (ctx: Context<{ who: string }>) => `late hello to ${ctx.params.who}`,
          },
        });
        await waitFor(
          () => peerHasService(peer, "latecomer"),
          "Node to see latecomer",
        );
        const res = await peer.call("latecomer.hi", { who: "node" });
        assert.equal(res.data, "late hello to node");
        assert.equal(res.nodeID, "deno-a");
        const seqAfter = byId(await peer.nodes(), "deno-a").seq as number;
        assert.ok(
          seqAfter > seqBefore,
          `seq bumped: ${seqBefore} → ${seqAfter}`,
        );
      },
    );

    await t.step("a destroyed Deno service disappears from Node", async () => {
      await broker.destroyService("latecomer");
      await waitFor(
        async () => !(await peerHasService(peer, "latecomer")),
        "latecomer to leave Node's registry",
      );
      await assert.rejects(
        peer.call("latecomer.hi", { who: "node" }),
        // Moleculer keeps the emptied action list: "not available" rather than "not found".
        (err: unknown) =>
          err instanceof PeerCallError &&
          (err.ctorName === "ServiceNotAvailableError" ||
            err.ctorName === "ServiceNotFoundError"),
      );
      await assert.rejects(
        broker.call("latecomer.hi", {}),
        ServiceNotFoundError,
      );
    });
  },
);

// A Deno node speaking the other protocol version: neither side registers the other, and the
// Deno node logs one warning that names the fix.
interopTest(
  "protocol mismatch: not discovered either way, one warning names the fix",
  async (_t, v) => {
    const wrong = v.protocol === "4" ? "5" : "4";
    await using nats = await startNatsServer();
    await using peer = await startPeer(nats, v, "node-m", {
      services: ["nodemath"],
    });
    await using mismatched = await startDeno({
      nodeID: "deno-wrong",
      transporter: nats.url,
      protocolVersion: wrong,
      services: [{ name: "denomath", actions: { one: () => 1 } }],
    });
    // A control node speaking the right version; it joins after the mismatched one has sent its
    // DISCOVER and INFO, so once the peer lists it, the peer has processed (and dropped) the
    // mismatched node's packets too.
    await using control = await startDeno({
      nodeID: "deno-right",
      transporter: nats.url,
      protocolVersion: v.protocol,
    });
    await control.broker.waitForServices("nodemath", 5000);
    await waitFor(
      async () => (await peer.nodes()).some((n) => n.id === "deno-right"),
      "the peer to list the control node",
    );
    // Two more peer heartbeats: the mismatched node receives (and drops) them too.
    const peerNode = control.broker.registry.nodes.get("node-m")!;
    for (let i = 0; i < 2; i++) {
      const last = peerNode.lastHeartbeatTime;
      await waitFor(
        () => peerNode.lastHeartbeatTime > last,
        "a peer heartbeat",
      );
    }

    const ids = (await peer.nodes()).map((n) => n.id).sort();
    assert.deepEqual(
      ids,
      ["deno-right", "node-m"],
      "the peer does not list the mismatched node",
    );
    assert.ok(
      !mismatched.broker.registry.nodes.has("node-m"),
      "Deno does not register the peer",
    );
    await assert.rejects(
      mismatched.broker.call("nodemath.add", { a: 1, b: 1 }),
      ServiceNotFoundError,
    );

    const hints = mismatched.logs.filter((e) => e.message.includes("node-m"));
    assert.equal(hints.length, 1, JSON.stringify(hints.map((h) => h.message)));
    const hint = hints[0]!;
    assert.equal(hint.level, "warn");
    assert.ok(
      hint.message.includes(`protocolVersion '${v.protocol}'`),
      `names the fix: ${hint.message}`,
    );
    assert.ok(hint.message.includes(`Moleculer ${v.version}`), hint.message);
  },
);

interopTest(
  "nodeID conflict: a Moleculer newcomer reusing a Deno nodeID exits",
  async (t, v) => {
    await using nats = await startNatsServer();
    await using deno = await startDeno({
      nodeID: "dup",
      transporter: nats.url,
      protocolVersion: v.protocol,
      services: [{ name: "denoside", actions: { x: () => "deno" } }],
    });
    await using witness = await startPeer(nats, v, "witness", { services: [] });
    await witness.waitForServices("denoside", 5000);

    await t.step(
      "the Moleculer newcomer finds the conflict at start and exits",
      async () => {
        // Deno answers the newcomer's DISCOVER on INFO.dup: Moleculer sees an INFO from its own
        // nodeID with another instanceID and calls broker.fatal() (process exit 1).
        await assert.rejects(
          startPeer(nats, v, "dup", { services: ["nodemath"] }),
          /exited before it was ready \(code 1\)[\s\S]*nodeID conflict/,
        );
        assert.ok(deno.broker.started, "the Deno node keeps running");
        assert.equal(deno.logs.length, 0, JSON.stringify(deno.logs));
        const res = await witness.call("denoside.x");
        assert.deepEqual([res.data, res.nodeID], ["deno", "dup"]);
        const dup = (await witness.nodes()).find((n) => n.id === "dup");
        assert.equal(dup?.instanceID, deno.broker.instanceID);
      },
    );
  },
);

interopTest(
  "nodeID conflict: a Deno newcomer reusing a Moleculer nodeID",
  async (t, v) => {
    await using nats = await startNatsServer();
    await using peer = await startPeer(nats, v, "dup2", {
      services: ["nodemath"],
    });
    await t.step(
      "Moleculer drops the DISCOVER, then exits on the newcomer's INFO",
      async () => {
        // Moleculer ignores a DISCOVER from its own nodeID, so the Deno newcomer cannot learn of
        // the conflict; its INFO makes the Moleculer node stop (Moleculer's own rule).
        await using deno = await startDeno({
          nodeID: "dup2",
          transporter: nats.url,
          protocolVersion: v.protocol,
        });
        const status = await peer.exited;
        assert.equal(status.code, 1);
        assert.match(peer.stderrTail(), /nodeID conflict/);
        assert.ok(deno.broker.started);
      },
    );
  },
);
