/**
 * Graceful stop under load: two responders serve `jobs.run` (80 ms); a caller sends 4 calls
 * every 5 ms (no call timeout); one responder (`tracking: { enabled: true }`) is stopped mid-traffic.
 * - No accepted request is lost: every request whose handler started on the stopping node is
 *   answered with its result before the node leaves.
 * - Requests it refused (they reached it after it began to stop) fail with a typed, retryable
 *   error and never ran, so a retry cannot run a handler twice.
 * - sent = resolved + rejected; no handler runs twice. With a retry policy, no call fails.
 */

import assert from "node:assert/strict";
import type { BrokerOptions, Context, ServiceSchema } from "../../mod.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { RawClient, report, sleep, startNode, Tally, waitFor } from "./_util.ts";

interface Run {
  readonly node: string;
  done: boolean;
}

function jobs(nodeID: string, runs: Map<number, Run[]>): ServiceSchema {
  return {
    name: "jobs",
    actions: {
      run: async (ctx: Context<{ id: number }>) => {
        const run: Run = { node: nodeID, done: false };
        const list = runs.get(ctx.params.id) ?? [];
        list.push(run);
        runs.set(ctx.params.id, list);
        await sleep(80);
        run.done = true;
        return { id: ctx.params.id, by: nodeID };
      },
    },
  };
}

/** Job ids of the stale raw caller start here. */
const STALE_BASE = 1_000_000;

async function stopUnderLoad(
  callerOptions: BrokerOptions,
  label: string,
  stopDelay = 100,
  stale = false,
): Promise<number> {
  await using nats = await startNatsServer();
  const runs = new Map<number, Run[]>();
  const tracking = { tracking: { enabled: true, shutdownTimeout: 5000 } };
  // Moleculer's default stopDelay (100 ms) lets callers learn of the empty INFO before the node
  // refuses requests; with 0, requests already on the wire reach a node that refuses them.
  const r1 = await startNode(nats.url, "resp-1", [jobs("resp-1", runs)], {
    ...tracking,
    registry: { stopDelay },
  });
  await using r2 = await startNode(
    nats.url,
    "resp-2",
    [jobs("resp-2", runs)],
    tracking,
  );
  await using caller = await startNode(nats.url, "caller", [], callerOptions);
  try {
    await waitFor(
      () => caller.broker.registry.actions.get("jobs.run")?.items.length === 2,
      "both responders",
    );
    const tally = new Tally();
    const outcome = new Map<number, { ok: boolean; value: unknown }>();
    let next = 0;
    const ticker = setInterval(() => {
      for (let i = 0; i < 4; i++) {
        const id = next++;
        tally.track(
          caller.broker.call("jobs.run", { id }),
          (ok, value) => outcome.set(id, { ok, value }),
        );
      }
    }, 5);
    // A caller with a stale view (a node that has not processed the empty INFO yet): a raw
    // client that keeps sending REQs straight to resp-1 through the stop.
    await using raw = await RawClient.connect(nats.url, "stale");
    const rawRes = new Map<number, Record<string, unknown>>();
    raw.on(
      "MOL.RES.stale",
      (p) => rawRes.set(Number(String(p.id).slice(6)), p),
    );
    let rawNext = STALE_BASE;
    const rawTicker = stale
      ? setInterval(() => {
        const id = rawNext++;
        void raw.send("MOL.REQ.resp-1", {
          id: `stale-${id}`,
          action: "jobs.run",
          params: { id },
          meta: {},
          timeout: 0,
          level: 1,
        });
      }, 2)
      : undefined;
    let inFlightAtStop = 0;
    let stopMs = 0;
    try {
      await sleep(1000);
      inFlightAtStop = r1.broker.tracker.size;
      const t0 = performance.now();
      await r1.broker.stop();
      stopMs = performance.now() - t0;
      await sleep(500);
    } finally {
      clearInterval(ticker);
      clearInterval(rawTicker);
    }
    await tally.settle(10_000);
    assert.equal(
      tally.sent,
      tally.resolved + tally.rejectedCount,
      tally.summary(),
    );
    assert.deepEqual(tally.untyped, []);
    assert.ok(
      inFlightAtStop > 0,
      "requests were running on resp-1 when it stopped",
    );
    await sleep(200); // the last raw answers
    const staleOutcome: Record<string, number> = {};
    for (let id = STALE_BASE; id < rawNext; id++) {
      const res = rawRes.get(id);
      const kind = !res
        ? "no answer (sent after resp-1 left)"
        : res.success
        ? "answered"
        : String((res.error as { name?: string })?.name);
      staleOutcome[kind] = (staleOutcome[kind] ?? 0) + 1;
      // Answered ⇒ ran once and finished; refused or unanswered ⇒ never ran.
      const ran = runs.get(id)?.length ?? 0;
      assert.equal(
        ran,
        res?.success ? 1 : 0,
        `stale job ${id}: ${kind}, ran ${ran} times`,
      );
      if (res && !res.success) assert.equal(kind, "ServiceNotAvailableError");
    }
    if (stale) {
      report(`[${label}] stale raw caller straight to resp-1`, staleOutcome);
      assert.ok(
        (staleOutcome["ServiceNotAvailableError"] ?? 0) > 0,
        "some were refused",
      );
    }
    for (const [id, list] of runs) {
      if (id >= STALE_BASE) continue;
      assert.equal(list.length, 1, `job ${id} ran ${list.length} times`);
      const o = outcome.get(id);
      // Accepted ⇒ finished and answered.
      assert.ok(list[0]!.done, `job ${id} on ${list[0]!.node} did not finish`);
      assert.ok(
        o?.ok,
        `job ${id} ran on ${list[0]!.node} but its caller got ${o?.value}`,
      );
    }
    const refused: Record<string, number> = {};
    for (const [id, o] of outcome) {
      if (o.ok) continue;
      assert.equal(runs.has(id), false, `failed job ${id} ran`);
      const err = o.value as { name: string; retryable: boolean };
      assert.equal(err.retryable, true, err.name);
      refused[err.name] = (refused[err.name] ?? 0) + 1;
    }
    const onR1 = [...runs.values()].filter((l) => l[0]!.node === "resp-1").length;
    report(`[${label}] calls`, tally.summary());
    report(
      `[${label}] resp-1: in flight at stop / handled in total / stop took (ms)`,
      `${inFlightAtStop} / ${onR1} / ${Math.round(stopMs)}`,
    );
    report(`[${label}] refused (never ran, retryable)`, refused);
    assert.ok(r2.broker.started);
    return tally.rejectedCount;
  } finally {
    await r1.broker.stop();
  }
}

Deno.test("graceful stop under load: no accepted request is lost, no handler runs twice", async () => {
  await stopUnderLoad({}, "no retry");
});

Deno.test("graceful stop under load, stopDelay 0: refused requests never ran", async () => {
  await stopUnderLoad({}, "stopDelay 0", 0, true);
});

Deno.test("graceful stop under load, stopDelay 0, with a retry policy: no call fails", async () => {
  const failed = await stopUnderLoad(
    { retryPolicy: { enabled: true, retries: 3, delay: 20 } },
    "stopDelay 0 + retryPolicy",
    0,
  );
  assert.equal(failed, 0);
});
