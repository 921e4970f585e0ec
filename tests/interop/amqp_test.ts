/**
 * Interop over AMQP: Denolecular and real Moleculer 0.14 / 0.15 on the shared RabbitMQ, each
 * test in a vhost of its own. The common cluster scenario, then RabbitMQ's own balancing
 * (`disableBalancer` on both sides): calls and grouped events through Moleculer's balanced
 * queues, and a request held by a SIGKILLed worker delivered again to another one, since it is
 * acknowledged only once answered.
 */

import assert from "node:assert/strict";
import type { Context, ServiceSchema } from "../../mod.ts";
import { startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { startRabbitVhost } from "../_helpers/servers.ts";
import { EventLog, interopTest, startDeno, timed } from "./_shared.ts";
import { transporterCluster } from "./_transporter_cluster.ts";

transporterCluster("AMQP", startRabbitVhost);

const denoMath: ServiceSchema = {
  name: "denomath",
  actions: { add: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b },
};

interopTest(
  "AMQP: RabbitMQ balances (disableBalancer), and redelivers what a dead worker held",
  async (t, v) => {
    await using vhost = await startRabbitVhost();
    const worker = (nodeID: string, services: string[]) =>
      startMoleculerPeer({
        version: v.version,
        nodeID,
        transporter: vhost.url,
        disableBalancer: true,
        heartbeatInterval: 1,
        heartbeatTimeout: 3,
        services,
      });
    await using w1 = await worker("node-w1", ["nodemath", "listener"]);
    await using w2 = await worker("node-w2", ["nodemath"]);
    const log = new EventLog();
    await using deno = await startDeno({
      nodeID: "deno-b",
      transporter: vhost.url,
      protocolVersion: v.protocol,
      disableBalancer: true,
      heartbeatTimeout: 3,
      services: [denoMath, log.service("denolistener", { "node.done": "grp-a" })],
    });
    const broker = deno.broker;
    await broker.waitForServices(["nodemath", "nodelistener"], 10_000);
    await w1.waitForServices(["denomath", "denolistener"], 10_000);

    await t.step("calls through the balanced request queues, both ways", async () => {
      assert.equal(await broker.call("nodemath.add", { a: 1, b: 2 }), 3);
      assert.equal((await w1.call("denomath.add", { a: 3, b: 4 })).data, 7);
    });

    await t.step("events through the balanced event queues, both ways", async () => {
      await broker.emit("user.created", { id: 9 });
      const got = await w1.waitForEvent((e) => e.handler === "user.created");
      assert.deepEqual(got.data, { id: 9 });
      await w2.emit("node.done", { n: 1 });
      const seen = await log.waitFor((e) => e.handler === "node.done");
      assert.deepEqual(seen.data, { n: 1 });
    });

    await t.step(
      "a request held by a SIGKILLed worker is delivered again, to the other",
      async () => {
        // prefetch 1: each worker holds one unacknowledged request; the killed one's comes back.
        const ms = 1500;
        const calls = [0, 1].map(() =>
          timed(broker.call("nodemath.slow", { ms }, { timeout: 15_000 }))
        );
        await new Promise((r) => setTimeout(r, 300));
        await w1.kill();
        const results = await Promise.all(calls);
        for (const r of results) assert.deepEqual(r.value, { waited: ms }, String(r.error));
        const slowest = Math.max(...results.map((r) => r.ms));
        assert.ok(slowest >= 2 * ms - 300, `the redelivered call answered after ${slowest} ms`);
      },
    );
  },
);
