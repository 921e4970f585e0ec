/**
 * Balancing and fault tolerance in a mixed cluster on a private nats-server: a real Moleculer
 * 0.15 node and two Denolecular nodes serve `nodemath.add`; a fourth (Denolecular) node calls it.
 * RoundRobin spreads the calls over all three; a failing Denolecular instance trips its circuit
 * breaker and traffic moves to the others; with retries, calls landing on it are retried onto
 * healthy nodes.
 *
 * Skipped only when the Moleculer peers are not installed (`cd tests && npm ci`) AND `CI` is unset.
 */

import assert from "node:assert/strict";
import {
  type BrokerOptions,
  type Context,
  type MiddlewareHooks,
  MoleculerServerError,
  ServiceBroker,
} from "../../mod.ts";
import { requirePeers, skipWithoutPeers, startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { until } from "../_helpers/core.ts";

type AB = { a: number; b: number };

/** The Denolecular twin of the peer's `nodemath` service: `add` with the same params schema. */
function denoMath(health: { failing: boolean }, served: { count: number }) {
  return {
    name: "nodemath",
    actions: {
      add: {
        params: { a: "number", b: "number" },
        handler(ctx: Context<AB>) {
          served.count++;
          if (health.failing) {
            throw new MoleculerServerError(`${ctx.broker.nodeID} is failing`, 500, "FAILING");
          }
          return ctx.params.a + ctx.params.b;
        },
      },
    },
  };
}

/** Records, on the caller, which node answered each successful call and which failed. */
function outcomes() {
  const ok: string[] = [];
  const failed: string[] = [];
  const mw: MiddlewareHooks = {
    name: "record-outcomes",
    remoteAction: (next) => (ctx) =>
      Promise.resolve(next(ctx)).then(
        (res) => {
          ok.push(ctx.nodeID!);
          return res;
        },
        (err) => {
          failed.push(ctx.nodeID!);
          throw err;
        },
      ),
  };
  return { ok, failed, mw };
}

function count(ids: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = (out[id] ?? 0) + 1;
  return out;
}

function broker(url: string, nodeID: string, extra: BrokerOptions = {}): ServiceBroker {
  return new ServiceBroker({
    nodeID,
    transporter: url,
    logger: false,
    transit: { discoverWaitTime: 200, serviceChangedDebounceTime: 50 },
    registry: { stopDelay: 0, ...extra.registry },
    ...extra,
  });
}

Deno.test({
  name: "mixed cluster (Moleculer 0.15 + 2 Denolecular): balancing, circuit breaker, retries",
  ignore: skipWithoutPeers(),
  async fn(t) {
    requirePeers();
    await using nats = await startNatsServer();
    await using peer = await startMoleculerPeer({
      version: "0.15",
      nodeID: "node-js",
      transporter: nats.url,
      services: ["nodemath"],
      heartbeatInterval: 1,
      heartbeatTimeout: 5,
    });
    const health = { failing: false };
    const served = { a: { count: 0 }, b: { count: 0 } };
    const denoA = broker(nats.url, "deno-a");
    const denoB = broker(nats.url, "deno-b");
    denoA.createService(denoMath({ failing: false }, served.a));
    denoB.createService(denoMath(health, served.b));
    const callers: ServiceBroker[] = [];
    const caller = async (nodeID: string, extra: BrokerOptions) => {
      const rec = outcomes();
      const b = broker(nats.url, nodeID, {
        ...extra,
        middlewares: [rec.mw],
        registry: { strategy: "RoundRobin", preferLocal: true, stopDelay: 0 },
      });
      callers.push(b);
      await b.start();
      await until(
        () => (b.registry.actions.get("nodemath.add")?.items.length ?? 0) === 3,
        `${nodeID} to see the three endpoints of nodemath.add`,
        10_000,
      );
      return { broker: b, ...rec };
    };
    try {
      await Promise.all([denoA.start(), denoB.start()]);
      await peer.waitForServices(["nodemath"], 10_000);

      await t.step(
        "RoundRobin spreads calls over the Moleculer node and both Deno nodes",
        async () => {
          const c = await caller("caller-rr", {});
          for (let i = 0; i < 90; i++) {
            assert.equal(await c.broker.call("nodemath.add", { a: i, b: 1 }), i + 1);
          }
          const per = count(c.ok);
          assert.deepEqual(Object.keys(per).sort(), ["deno-a", "deno-b", "node-js"]);
          for (const [id, n] of Object.entries(per)) {
            assert.ok(n >= 25 && n <= 35, `${id} served ${n} of 90 calls: ${JSON.stringify(per)}`);
          }
          assert.equal(c.failed.length, 0);
          // and the validation of the shared params schema works on every node
          await assert.rejects(c.broker.call("nodemath.add", { a: "x", b: 1 }), {
            name: "ValidationError",
          });
        },
      );

      await t.step(
        "a failing Deno instance trips its breaker; traffic moves to the others",
        async () => {
          const c = await caller("caller-cb", {
            circuitBreaker: {
              enabled: true,
              threshold: 0.5,
              minRequestCount: 3,
              windowTime: 60,
              halfOpenTime: 60_000,
            },
          });
          const opened: Record<string, unknown>[] = [];
          c.broker.createService({
            name: "cbwatch",
            events: {
              "$circuit-breaker.opened"(ctx: Context<Record<string, unknown>>) {
                opened.push(ctx.params);
              },
            },
          });
          health.failing = true;
          const before = served.b.count;
          let errors = 0;
          for (let i = 0; i < 60; i++) {
            await c.broker.call("nodemath.add", { a: i, b: 2 }).catch(() => errors++);
          }
          // deno-b failed three times (count 3, rate 1.0 ≥ 0.5), then was skipped.
          assert.equal(errors, 3);
          assert.equal(served.b.count - before, 3);
          assert.equal(c.broker.circuitBreaker.state("deno-b", "nodemath.add"), "open");
          assert.equal(c.broker.circuitBreaker.state("deno-a", "nodemath.add"), "closed");
          assert.equal(c.broker.circuitBreaker.state("node-js", "nodemath.add"), "closed");
          const per = count(c.ok);
          assert.equal(per["deno-b"], undefined);
          assert.equal((per["deno-a"] ?? 0) + (per["node-js"] ?? 0), 57);
          assert.ok(per["deno-a"]! >= 25 && per["node-js"]! >= 25, JSON.stringify(per));
          await until(() => opened.length === 1, "the $circuit-breaker.opened event");
          assert.deepEqual(opened[0], {
            nodeID: "deno-b",
            service: "nodemath",
            action: "nodemath.add",
            failures: 3,
            count: 3,
            rate: 1,
          });
        },
      );

      await t.step(
        "with retries, calls landing on the failing node succeed elsewhere",
        async () => {
          const c = await caller("caller-retry", {
            retryPolicy: { enabled: true, retries: 3, delay: 5, maxDelay: 20 },
          });
          health.failing = true;
          const before = served.b.count;
          const results: number[] = [];
          for (let i = 0; i < 60; i++) {
            results.push(await c.broker.call("nodemath.add", { a: i, b: 3 }));
          }
          assert.deepEqual(results, Array.from({ length: 60 }, (_, i) => i + 3));
          const landed = served.b.count - before;
          assert.ok(landed >= 15, `calls reached the failing node ${landed} times`);
          assert.equal(c.failed.length, landed, "every failure was on deno-b");
          assert.ok(c.failed.every((id) => id === "deno-b"));
          const per = count(c.ok);
          assert.equal(per["deno-b"], undefined);
          assert.equal((per["deno-a"] ?? 0) + (per["node-js"] ?? 0), 60);
        },
      );
    } finally {
      health.failing = false;
      await Promise.all(callers.map((b) => b.stop()));
      await Promise.all([denoA.stop(), denoB.stop()]);
      await peer.stop();
    }
  },
});
