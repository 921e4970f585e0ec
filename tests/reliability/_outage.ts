/**
 * A transporter server's outage under steady traffic, shared by the outage tests of each
 * transporter: a caller sends a call every 10 ms (no call timeout: nothing may rely on one) to
 * a responder whose handler takes 50 ms; the server is SIGKILLed, and restarted on the same port
 * 3 s later. Every call settles with a value or a typed error (see `nats_outage_test.ts` for
 * what is asserted of each phase).
 */

import assert from "node:assert/strict";
import { BrokerDisconnectedError, type Context, type ServiceSchema } from "../../mod.ts";
import { type Node, report, sleep, Tally, waitFor } from "./_util.ts";

/** A server a test can kill and restart on the same port. */
export interface RestartableServer {
  /** Resolves once the server is down for every client. */
  kill(): Promise<void>;
  /** Resolves once the server accepts clients again. */
  restart(): Promise<void>;
}

/** The responder's service: `nodemath.slow` answers after `ms`. */
export const slowMath: ServiceSchema = {
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
export async function outage(
  server: RestartableServer,
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
    await server.kill();
    // Where killing takes a while (closing a vhost's connections), the outage starts after it.
    const tDown = performance.now();
    await sleep(3000);
    const tRestart = performance.now();
    await server.restart();
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
    const during = calls.filter((c) => c.start > tDown + 100 && c.start < tRestart);
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
    // At least once: a client may need a second try when the server comes back under load.
    const reconnects = caller.logs.matching(/Transporter reconnected/).length;
    assert.ok(reconnects >= 1, `the caller logged 'Transporter reconnected' ${reconnects} times`);

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
