import { strict as assert } from "node:assert";
import { ServiceBroker } from "../../mod.ts";
import { InFlightTracker } from "../../src/runner/inflight.ts";
import { signalExitCode } from "../../src/runner/signals.ts";

Deno.test("InFlightTracker counts running calls and drains", async () => {
  const tracker = new InFlightTracker();
  const broker = new ServiceBroker({
    nodeID: "inflight",
    logger: false,
    middlewares: [tracker.middleware],
  });
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  broker.createService({
    name: "work",
    actions: {
      slow: () => gate.then(() => "done"),
      fast: () => "now",
      fail: () => {
        throw new Error("boom");
      },
    },
  });
  await broker.start();
  try {
    assert.equal(await broker.call("work.fast"), "now");
    await assert.rejects(broker.call("work.fail"), /boom/);
    assert.equal(tracker.count, 0);
    assert.equal(await tracker.drain(10), true);

    const slow = [broker.call("work.slow"), broker.call("work.slow")];
    assert.equal(tracker.count, 2);
    assert.equal(await tracker.drain(20), false, "times out while calls run");
    const drained = tracker.drain(5000);
    release();
    assert.equal(await drained, true);
    assert.deepEqual(await Promise.all(slow), ["done", "done"]);
    assert.equal(tracker.count, 0);
  } finally {
    await broker.stop();
  }
});

Deno.test("signalExitCode() is 128 + the signal number", () => {
  assert.equal(signalExitCode("SIGINT"), 130);
  assert.equal(signalExitCode("SIGTERM"), 143);
  assert.equal(signalExitCode("SIGUSR1"), 1);
});
