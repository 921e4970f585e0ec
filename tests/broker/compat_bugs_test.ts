/**
 * Bugs against Moleculer's behaviour: `retryPolicy` with a `fallback` on one action, and
 * `dependencies` with `$dependencyTimeout`.
 */
import assert from "node:assert/strict";
import { MoleculerError, MoleculerRetryableError } from "../../mod.ts";
import { scoped } from "../_helpers/core.ts";
import { inMoleculer } from "../compat/_moleculer.ts";

Deno.test("retryPolicy + fallback on one action: retried 3 times, then the fallback (Moleculer: 4 runs)", async () => {
  const moleculer = await inMoleculer(`
    const { MoleculerRetryableError } = require("moleculer-015").Errors;
    let runs = 0;
    const broker = new ServiceBroker({ logger: false });
    broker.createService({
      name: "flaky",
      actions: {
        go: {
          retryPolicy: { enabled: true, retries: 3, delay: 1 },
          fallback: () => "fallback",
          handler() { runs++; throw new MoleculerRetryableError("down"); },
        },
      },
    });
    await broker.start();
    const result = await broker.call("flaky.go");
    await broker.stop();
    return { runs, result };
  `);
  assert.deepEqual(moleculer, { runs: 4, result: "fallback" });

  let runs = 0;
  await using broker = scoped();
  broker.createService({
    name: "flaky",
    actions: {
      go: {
        retryPolicy: { enabled: true, retries: 3, delay: 1 },
        fallback: () => "fallback",
        handler() {
          runs++;
          throw new MoleculerRetryableError("down");
        },
      },
    },
  });
  await broker.start();
  const result = await broker.call("flaky.go");
  assert.deepEqual({ runs, result }, moleculer);
});

Deno.test("dependencies honour $dependencyTimeout: the service fails to start, named, in time", async () => {
  await using broker = scoped();
  broker.createService({
    name: "needy",
    settings: { $dependencyTimeout: 150, $dependencyInterval: 20 },
    dependencies: ["missing"],
  });
  const t0 = Date.now();
  const err = await broker.start().then(() => null, (e) => e);
  assert.ok(err instanceof MoleculerError, String(err));
  assert.equal(err.type, "WAITFOR_SERVICES");
  assert.match(err.message, /Service 'needy' cannot start/);
  assert.deepEqual((err.data as { missing: string[] }).missing, ["missing"]);
  assert.ok(Date.now() - t0 < 2000, "gave up in time");
});

Deno.test("dependencies honour the broker's dependencyTimeout; a service setting wins", async () => {
  await using broker = scoped({
    dependencyTimeout: 100,
    dependencyInterval: 10,
  });
  broker.createService({
    name: "needy",
    dependencies: [{ name: "missing", version: 2 }],
  });
  const err = await broker.start().then(() => null, (e) => e);
  assert.ok(err instanceof MoleculerError);
  assert.deepEqual((err.data as { services: string[] }).services, [
    "v2.missing",
  ]);
});

Deno.test("dependencies that appear in time: the service starts", async () => {
  await using broker = scoped({
    dependencyTimeout: 2000,
    dependencyInterval: 10,
  });
  const order: string[] = [];
  broker.createService({
    name: "late",
    dependencies: ["early"],
    started: () => void order.push("late"),
  });
  setTimeout(
    () =>
      broker.createService({
        name: "early",
        started: () => void order.push("early"),
      }),
    50,
  );
  await broker.start();
  await broker.waitForServices("late", 2000);
  assert.deepEqual(order, ["early", "late"]);
});
