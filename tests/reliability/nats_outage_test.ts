/**
 * NATS outage under steady traffic: a caller sends a call every 10 ms (no call timeout: nothing
 * may rely on one) to a responder whose handler takes 50 ms; the nats-server is SIGKILLed, and
 * restarted on the same port 3 s later. Every call settles with a value or a typed error:
 * - calls in flight at the kill reject at once with BrokerDisconnectedError (their responses are
 *   lost with the connection);
 * - calls made during the outage fail fast with BrokerDisconnectedError;
 * - once back, the caller re-announces itself (INFO + DISCOVER); calls to a responder that is
 *   not back yet fail fast too (it has not been heard from since the reconnect), and calls
 *   succeed again as soon as it is; nobody is marked offline.
 * The responder is a Denolecular node, then a Moleculer 0.15 node. The clients reconnect with
 * their defaults (2 s between attempts).
 */

import assert from "node:assert/strict";
import { BrokerDisconnectedError, type Context, type ServiceSchema } from "../../mod.ts";
import { skipWithoutPeers, startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { type NatsServer, startNatsServer } from "../_helpers/nats_server.ts";
import { type Node, report, sleep, startNode, Tally, waitFor } from "./_util.ts";

const slowMath: ServiceSchema = {
  name: "nodemath",
  actions: {
    slow: async (ctx: Context<{ ms: number }>) => {
      await sleep(ctx.params.ms);
      return { waited: ctx.params.ms };
    },
  },
};

interface CallRecord {
  readonly start: number;
  end?: number;
  ok?: boolean;
  error?: unknown;
}

/**
 * Steady traffic from `caller` to `nodemath.slow`, a kill of the server, a restart 3 s later,
 * and the bookkeeping of every call.
 */
async function outage(
  nats: NatsServer,
  caller: Node,
  responderID: string,
): Promise<void> {
  const tally = new Tally();
  const calls: CallRecord[] = [];
  const fire = () => {
    const rec: CallRecord = { start: performance.now() };
    calls.push(rec);
    tally.track(caller.broker.call("nodemath.slow", { ms: 50 }), (ok, v) => {
      rec.end = performance.now();
      rec.ok = ok;
      if (!ok) rec.error = v;
    });
  };
  const ticker = setInterval(fire, 10);
  try {
    await sleep(1000);
    const inflightAtKill = calls.filter((c) => c.end === undefined);
    const pendingInTransit = caller.broker.transit!.pendingCount;
    const tKill = performance.now();
    await nats.kill();
    await sleep(3000);
    const tRestart = performance.now();
    await nats.restart();
    const firstOk = await waitFor(
      () => calls.find((c) => c.start > tRestart && c.ok === true),
      "a successful call after the restart",
      15_000,
      10,
    );
    const recovery = firstOk.end! - tRestart;
    await sleep(1000);
    clearInterval(ticker);
    await tally.settle(10_000);

    // Every call settled, with a value or a typed (MoleculerError) error.
    assert.equal(
      tally.sent,
      tally.resolved + tally.rejectedCount,
      tally.summary(),
    );
    assert.deepEqual(tally.untyped, [], "untyped rejections");
    // In flight at the kill: settled at once, as values (answered just before) or as
    // BrokerDisconnectedError.
    for (const c of inflightAtKill) {
      assert.ok(
        c.ok || c.error instanceof BrokerDisconnectedError,
        String(c.error),
      );
      assert.ok(
        c.end! - tKill < 1000,
        `an in-flight call settled ${c.end! - tKill} ms after the kill`,
      );
    }
    // Made during the outage: failed fast.
    const during = calls.filter((c) => c.start > tKill + 100 && c.start < tRestart);
    assert.ok(during.length > 100, `${during.length} calls during the outage`);
    const slowest = Math.max(...during.map((c) => c.end! - c.start));
    for (const c of during) {
      assert.ok(c.error instanceof BrokerDisconnectedError, String(c.error));
    }
    assert.ok(
      slowest < 50,
      `a call during the outage took ${slowest} ms to fail`,
    );
    // After the restart: failures only until both sides are back, all of them fast and typed.
    const after = calls.filter((c) => c.start >= tRestart);
    const afterFailed = after.filter((c) => !c.ok);
    for (const c of afterFailed) {
      assert.ok(c.error instanceof BrokerDisconnectedError, String(c.error));
      assert.ok(
        c.start < firstOk.start + 1,
        "no failure once calls flow again",
      );
    }
    assert.ok(recovery < 5000, `recovery took ${recovery} ms`);
    // Nobody was marked offline, and calls flow.
    assert.equal(
      caller.broker.registry.nodes.get(responderID)?.available,
      true,
    );
    assert.deepEqual(await caller.broker.call("nodemath.slow", { ms: 1 }), {
      waited: 1,
    });
    assert.ok(caller.logs.matching(/Transporter reconnected/).length === 1);

    const inflightOk = inflightAtKill.filter((c) => c.ok).length;
    report(`[${responderID}] calls`, tally.summary());
    report(
      `[${responderID}] in flight at the kill (tracked / in transit)`,
      `${inflightAtKill.length} / ${pendingInTransit}: ${inflightOk} resolved, ${
        inflightAtKill.length - inflightOk
      } rejected (BrokerDisconnectedError) within ${
        Math.round(Math.max(0, ...inflightAtKill.map((c) => c.end! - tKill)))
      } ms`,
    );
    report(
      `[${responderID}] during the outage`,
      `${during.length} calls, all BrokerDisconnectedError, slowest ${slowest.toFixed(1)} ms`,
    );
    report(
      `[${responderID}] after the restart`,
      `${afterFailed.length} fast failures before the first success; recovery ${
        Math.round(recovery)
      } ms after the restart`,
    );
  } finally {
    clearInterval(ticker);
  }
}

Deno.test("NATS outage: Deno caller → Deno responder, kill + restart after 3 s", async () => {
  await using nats = await startNatsServer();
  await using responder = await startNode(nats.url, "deno-resp", [slowMath], {
    heartbeatTimeout: 5,
  });
  await using caller = await startNode(nats.url, "caller", [], {
    heartbeatTimeout: 5,
  });
  await caller.broker.waitForServices("nodemath", 3000, 10);
  await outage(nats, caller, "deno-resp");
  // The responder re-announced itself too, and saw nobody go.
  assert.equal(responder.broker.registry.nodes.get("caller")?.available, true);
  assert.equal(
    responder.logs.matching(/disconnected unexpectedly|marking it offline/)
      .length,
    0,
  );
});

Deno.test({
  name: "NATS outage: Deno caller → Moleculer 0.15 responder, kill + restart after 3 s",
  ignore: skipWithoutPeers(),
  async fn() {
    await using nats = await startNatsServer();
    await using _peer = await startMoleculerPeer({
      version: "0.15",
      nodeID: "node-resp",
      transporter: nats.url,
      services: ["nodemath"],
      heartbeatInterval: 1,
      heartbeatTimeout: 10,
    });
    await using caller = await startNode(nats.url, "caller", [], {
      heartbeatTimeout: 5,
    });
    await caller.broker.waitForServices("nodemath", 5000, 10);
    await outage(nats, caller, "node-resp");
  },
});
