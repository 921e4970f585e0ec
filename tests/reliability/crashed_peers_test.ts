/**
 * Crashed peers under load: two instances serve `<svc>.slow` (100 ms); a caller sends a call
 * every 10 ms (no call timeout); one instance is SIGKILLed — a Denolecular node in its own
 * `deno run` process, then a Moleculer 0.15 node. No DISCONNECT is sent, so the caller learns of
 * the crash from the missing heartbeats (heartbeatTimeout 2 s, checked every 2 s). Then:
 * - every request waiting for the dead node rejects with RequestRejectedError (none hangs);
 * - the dead node leaves the registry (offline, no endpoint left);
 * - new calls go to the surviving instance and succeed.
 */

import assert from "node:assert/strict";
import { type Context, RequestRejectedError, type ServiceSchema } from "../../mod.ts";
import { skipWithoutPeers, startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { type Node, report, sleep, spawnResponder, startNode, Tally, waitFor } from "./_util.ts";

/** A survivor instance of `<name>.slow`: answers `{ waited, by }`. */
function slowService(name: string, nodeID: string): ServiceSchema {
  return {
    name,
    actions: {
      slow: async (ctx: Context<{ ms: number; n?: number }>) => {
        await sleep(ctx.params.ms);
        return { waited: ctx.params.ms, n: ctx.params.n, by: nodeID };
      },
    },
  };
}

interface Rec {
  readonly start: number;
  end?: number;
  ok?: boolean;
  by?: string;
  error?: unknown;
}

async function crashUnderLoad(
  caller: Node,
  action: string,
  victim: string,
  survivor: string,
  kill: () => Promise<void>,
  servedBy: (value: unknown) => string,
): Promise<void> {
  const list = () => caller.broker.registry.actions.get(action);
  await waitFor(
    () => list()?.items.length === 2,
    `both instances of ${action}`,
    10_000,
  );
  const tally = new Tally();
  const calls: Rec[] = [];
  let n = 0;
  const ticker = setInterval(() => {
    const rec: Rec = { start: performance.now() };
    calls.push(rec);
    tally.track(caller.broker.call(action, { ms: 100, n: n++ }), (ok, v) => {
      rec.end = performance.now();
      rec.ok = ok;
      if (ok) rec.by = servedBy(v);
      else rec.error = v;
    });
  }, 10);
  try {
    await sleep(1000);
    const before = calls.filter((c) => c.ok);
    assert.ok(
      before.some((c) => c.by === victim) &&
        before.some((c) => c.by === survivor),
    );
    const pendingAtKill = caller.broker.transit!.pendingCount;
    const tKill = performance.now();
    await kill();
    await waitFor(
      () => caller.broker.registry.nodes.get(victim)?.available === false,
      `${victim} to be found dead`,
      8000,
      5,
    );
    const tDetect = performance.now();
    await sleep(500);
    clearInterval(ticker);
    await tally.settle(10_000);

    assert.equal(
      tally.sent,
      tally.resolved + tally.rejectedCount,
      tally.summary(),
    );
    assert.deepEqual(tally.untyped, []);
    const failed = calls.filter((c) => !c.ok);
    assert.ok(failed.length > 0, "some calls were waiting for the dead node");
    for (const c of failed) {
      assert.ok(c.error instanceof RequestRejectedError, String(c.error));
      assert.equal(
        ((c.error as RequestRejectedError).data as { nodeID?: string }).nodeID,
        victim,
      );
      // Rejected when the crash was detected, not later.
      assert.ok(
        c.end! - tDetect < 200,
        `rejected ${c.end! - tDetect} ms after the detection`,
      );
    }
    // The dead node left the registry: offline, and no endpoint of it is left.
    assert.deepEqual(list()!.items.map((e) => e.id), [survivor]);
    // Calls after the detection all went to the survivor.
    const later = calls.filter((c) => c.start > tDetect);
    assert.ok(later.length > 10);
    for (const c of later) assert.equal(c.by, survivor);
    for (let i = 0; i < 20; i++) {
      assert.equal(
        servedBy(await caller.broker.call(action, { ms: 1 })),
        survivor,
      );
    }
    report(`[${victim}] calls`, tally.summary());
    const atKill = failed.filter((c) => c.start < tKill).length;
    report(
      `[${victim}] pending at the SIGKILL: all nodes / to the victim`,
      `${pendingAtKill} / ${atKill}`,
    );
    report(
      `[${victim}] RequestRejectedError: in flight at the kill + sent to it before detection`,
      `${atKill} + ${failed.length - atKill} = ${failed.length}`,
    );
    report(
      `[${victim}] crash detected after (ms)`,
      Math.round(tDetect - tKill),
    );
  } finally {
    clearInterval(ticker);
  }
}

Deno.test("crashed peer: a Denolecular process SIGKILLed under load", async () => {
  await using nats = await startNatsServer();
  await using victim = await spawnResponder({
    url: nats.url,
    nodeID: "deno-victim",
    heartbeatInterval: 0.5,
    heartbeatTimeout: 2,
  });
  await using _survivor = await startNode(nats.url, "survivor", [
    slowService("math", "survivor"),
  ]);
  await using caller = await startNode(nats.url, "caller", [], {
    heartbeatTimeout: 2,
  });
  await crashUnderLoad(
    caller,
    "math.slow",
    victim.nodeID,
    "survivor",
    () => victim.kill(),
    (v) => (v as { by: string }).by,
  );
});

Deno.test({
  name: "crashed peer: a Moleculer 0.15 node SIGKILLed under load",
  ignore: skipWithoutPeers(),
  async fn() {
    await using nats = await startNatsServer();
    await using peer = await startMoleculerPeer({
      version: "0.15",
      nodeID: "node-victim",
      transporter: nats.url,
      services: ["nodemath"],
      heartbeatInterval: 1,
      heartbeatTimeout: 5,
    });
    await using _survivor = await startNode(nats.url, "survivor", [
      slowService("nodemath", "survivor"),
    ]);
    await using caller = await startNode(nats.url, "caller", [], {
      heartbeatTimeout: 2,
    });
    await crashUnderLoad(
      caller,
      "nodemath.slow",
      "node-victim",
      "survivor",
      () => peer.kill(),
      // Moleculer's nodemath.slow answers { waited } only.
      (v) => (v as { by?: string }).by ?? "node-victim",
    );
  },
});
