/**
 * A cacher against the `BrokerApi` contract alone: a small fake broker instead of a whole one,
 * to see exactly what the cacher takes from it (its `CACHER` logger, the runtime's unrefTimer).
 */

import assert from "node:assert/strict";
import type { BrokerApi } from "../../src/core/broker_api.ts";
import type { Runtime } from "../../src/core/runtime.ts";
import { createLoggerFactory } from "../../src/logging.ts";
import { MemoryCacher } from "../../src/cachers/memory.ts";
import { MemoryLRUCacher } from "../../src/cachers/memory_lru.ts";

/** A broker that offers loggers and a runtime, and records what is asked of them. */
function fakeBroker() {
  const loggers = createLoggerFactory({ nodeID: "fake", logger: () => {} });
  const modules: string[] = [];
  const unrefed: unknown[] = [];
  const runtime = {
    name: "fake",
    unrefTimer: (timer: ReturnType<typeof setTimeout>) => unrefed.push(timer),
  } as Partial<Runtime> as Runtime;
  const broker = {
    nodeID: "fake",
    runtime,
    getLogger(module: string) {
      modules.push(module);
      return loggers.getLogger(module);
    },
  } as Partial<BrokerApi> as BrokerApi;
  return { broker, loggers, modules, unrefed };
}

/** Records the timers `clearInterval` is given while `run` runs (and still clears them). */
async function clearedDuring(run: () => void | Promise<void>): Promise<unknown[]> {
  const original = globalThis.clearInterval;
  const cleared: unknown[] = [];
  globalThis.clearInterval = (id: Parameters<typeof clearInterval>[0]) => {
    cleared.push(id);
    original(id);
  };
  try {
    await run();
  } finally {
    globalThis.clearInterval = original;
  }
  return cleared;
}

for (const Cacher of [MemoryCacher, MemoryLRUCacher]) {
  Deno.test(`${Cacher.name}: init() takes the broker and its CACHER logger`, () => {
    const fake = fakeBroker();
    const cacher = new Cacher();
    assert.equal(cacher.broker, null);
    assert.equal(cacher.logger, null);
    cacher.init(fake.broker);
    assert.equal(cacher.broker, fake.broker);
    assert.deepEqual(fake.modules, ["CACHER"]);
    assert.equal(cacher.logger, fake.loggers.getLogger("CACHER"));
    cacher.close();
  });

  Deno.test(`${Cacher.name}: the TTL sweep is unref'd through broker.runtime and cleared on close()`, async () => {
    const fake = fakeBroker();
    const cacher = new Cacher({ ttl: 60 });
    cacher.init(fake.broker);

    cacher.set("no-expiry", 1, 0);
    assert.deepEqual(fake.unrefed, [], "no sweep while nothing expires");

    cacher.set("a", 1);
    cacher.set("b", 2, 5);
    assert.equal(fake.unrefed.length, 1, "one sweep timer, unref'd by the runtime");
    const [timer] = fake.unrefed;

    const cleared = await clearedDuring(() => cacher.close());
    assert.deepEqual(cleared, [timer], "close() clears the very timer it unref'd");
    assert.equal(cacher.get("a"), 1, "entries stay readable after close()");

    cacher.set("c", 3, 5);
    assert.equal(fake.unrefed.length, 1, "a closed cacher starts no sweep again");
  });

  Deno.test(`${Cacher.name}: clean("**") ends the sweep; the next expiring entry starts one`, async () => {
    const fake = fakeBroker();
    const cacher = new Cacher({ ttl: 60 });
    cacher.init(fake.broker);
    cacher.set("a", 1);
    const cleared = await clearedDuring(() => cacher.clean());
    assert.deepEqual(cleared, fake.unrefed);
    cacher.set("b", 2);
    assert.equal(fake.unrefed.length, 2);
    assert.notEqual(fake.unrefed[1], fake.unrefed[0]);
    cacher.close();
  });
}
