/**
 * One lean interop scenario, run for each transporter against each Moleculer version on the
 * real server: a Deno node and a Moleculer node (plus a second of each, one to be SIGKILLed and
 * one to leave gracefully) in a namespace of their own, and in turn: discovery both ways, calls
 * both ways with meta and errors, events with groups, broadcasts, `$node.list`, ping, a
 * SIGKILLed peer's pending call rejected, graceful stops seen both ways.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Context,
  MoleculerClientError,
  RequestRejectedError,
  type ServiceSchema,
} from "../../mod.ts";
import { type PeerEvent, startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { EventLog, interopTest, startDeno, timed, type VersionCase, waitFor } from "./_shared.ts";

type Rec = Record<string, unknown>;

/** The Deno node's service. */
const denoMath: ServiceSchema = {
  name: "denomath",
  actions: {
    add: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
    echo: (ctx: Context<Rec>) => {
      const out = { params: ctx.params, meta: { ...ctx.meta } };
      ctx.meta.fromDeno = true;
      return out;
    },
    fail: () => {
      throw new MoleculerClientError("deno says no", 422, "DENO_NO", { why: "test" });
    },
  },
};

const local = (event: string, nodeID: string) => (e: PeerEvent) =>
  e.type === "local-event" && e.event === event && e.nodeID === nodeID;

/**
 * Register the scenario for a transporter, once per Moleculer version.
 *
 * @param name The transporter, for the test names.
 * @param server The transporter URL both sides use (the same string for Moleculer and Deno),
 *   or a function that prepares one for the test (e.g. a RabbitMQ vhost) and disposes it after.
 */
export function transporterCluster(
  name: string,
  server: string | (() => Promise<{ readonly url: string } & AsyncDisposable>),
): void {
  interopTest(`${name}: one cluster, every kind of traffic`, async (t, v) => {
    if (typeof server === "string") return await cluster(t, v, server);
    await using prepared = await server();
    await cluster(t, v, prepared.url);
  });
}

async function cluster(t: Deno.TestContext, v: VersionCase, url: string): Promise<void> {
  const namespace = `it-${crypto.randomUUID().slice(0, 8)}`;
  const peerOptions = (nodeID: string, services?: string[]) => ({
    version: v.version,
    nodeID,
    transporter: url,
    namespace,
    heartbeatInterval: 1,
    heartbeatTimeout: 3,
    ...(services ? { services } : {}),
  });
  await using peer = await startMoleculerPeer(peerOptions("node-1"));
  await using victim = await startMoleculerPeer(peerOptions("node-victim", ["nodemath"]));
  const log = new EventLog();
  const common = {
    transporter: url,
    namespace,
    protocolVersion: v.protocol,
    heartbeatInterval: 0.5,
    heartbeatTimeout: 3,
  } as const;
  await using deno = await startDeno({
    ...common,
    nodeID: "deno-1",
    services: [
      denoMath,
      log.service("denolistener", { "node.done": "grp-a", "node.*": undefined }),
      log.service("denoaudit", { "node.done": "grp-b" }),
      log.service("denoall", { "everyone.**": undefined }),
      log.service("denowatch", { "$node.disconnected": undefined }),
    ],
  });
  await using leaver = await startDeno({ ...common, nodeID: "deno-leaver" });
  const broker = deno.broker;

  await t.step("discovery both ways", async () => {
    await broker.waitForServices(["nodemath", "v2.greeter", "nodelistener"], 10_000);
    await peer.waitForServices(["denomath", "denolistener"], 10_000);
    await peer.waitForEvent(local("$node.connected", "deno-leaver"), 10_000);
  });

  await t.step("calls Deno → Node: params, meta both ways, errors", async () => {
    assert.equal(await broker.call("nodemath.add", { a: 2, b: 3 }, { nodeID: "node-1" }), 5);
    const meta: Rec = { m: 1 };
    const echo = await broker.call("nodemath.echo", { x: 1 }, { meta, nodeID: "node-1" }) as Rec;
    assert.deepEqual(echo.params, { x: 1 });
    assert.deepEqual(echo.meta, { m: 1 });
    assert.deepEqual(meta, { m: 1, fromNode: true });
    await assert.rejects(broker.call("nodemath.fail", {}, { nodeID: "node-1" }), (e: unknown) => {
      const err = e as MoleculerClientError;
      assert.equal(err.code, 418);
      assert.equal(err.type, "TEAPOT");
      assert.deepEqual(err.data, { x: 1 });
      return true;
    });
  });

  await t.step("calls Node → Deno: params, meta both ways, errors", async () => {
    assert.equal((await peer.call("denomath.add", { a: 4, b: 5 })).data, 9);
    const res = await peer.call("denomath.echo", { y: 2 }, { meta: { n: 1 } });
    assert.deepEqual(res.data, { params: { y: 2 }, meta: { n: 1 } });
    assert.deepEqual(res.meta, { n: 1, fromDeno: true });
    assert.equal(res.nodeID, "deno-1");
    await assert.rejects(peer.call("denomath.fail"), (err: unknown) => {
      const e = err as { code?: number; type?: string; data?: unknown; name: string };
      assert.equal(e.name, "MoleculerClientError");
      assert.equal(e.code, 422);
      assert.equal(e.type, "DENO_NO");
      assert.deepEqual(e.data, { why: "test" });
      return true;
    });
  });

  await t.step("events with groups, both ways", async () => {
    // Deno → Node: `user.created` reaches the group `grp-node` and the `user.*` handler.
    await broker.emit("user.created", { id: 1 });
    const grouped = await peer.waitForEvent((e) => e.handler === "user.created");
    const starred = await peer.waitForEvent((e) => e.handler === "user.*");
    assert.deepEqual([grouped.data, starred.data], [{ id: 1 }, { id: 1 }]);
    assert.equal(grouped.nodeID, "deno-1");
    // Only the group asked for.
    await broker.emit("user.updated", { id: 2 }, { groups: ["nodelistener"] });
    await peer.waitForEvent((e) => e.handler === "user.*" && e.event === "user.updated");
    // Node → Deno: one delivery per group.
    await peer.emit("node.done", { n: 1 });
    await log.waitFor((e) => e.service === "denolistener" && e.handler === "node.done");
    await log.waitFor((e) => e.service === "denoaudit");
    await log.waitFor((e) => e.handler === "node.*");
    await peer.emit("node.done", { n: 2 }, { groups: ["grp-b"] });
    await log.waitFor((e) => e.service === "denoaudit" && (e.data as Rec).n === 2);
    assert.equal(log.count("node.done"), 3, "grp-a once, grp-b twice");
  });

  await t.step("broadcasts, both ways", async () => {
    await broker.broadcast("broadcast.test", { b: 1 });
    const got = await peer.waitForEvent((e) => e.handler === "broadcast.test");
    assert.equal(got.eventType, "broadcast");
    await peer.broadcast("everyone.here", { b: 2 });
    const seen = await log.waitFor((e) => e.handler === "everyone.**");
    assert.deepEqual(seen.data, { b: 2 });
    assert.equal(seen.nodeID, "node-1");
  });

  await t.step("$node.list and ping, both ways", async () => {
    const all = ["deno-1", "deno-leaver", "node-1", "node-victim"];
    await waitFor(async () => {
      const ids = (await peer.nodes()).filter((n) => n.available).map((n) => n.id).sort();
      return JSON.stringify(ids) === JSON.stringify(all);
    }, "node-1's $node.list to hold the four nodes");
    const fromDeno = await broker.call("$node.list") as Rec[];
    assert.ok(fromDeno.some((n) => n.id === "node-1" && n.available));
    const pong = await broker.ping("node-1", 3000) as Rec | null;
    assert.equal(pong?.nodeID, "node-1");
    const back = await peer.ping("deno-1", 3000) as Rec | null;
    assert.equal(back?.nodeID, "deno-1");
  });

  await t.step("a SIGKILLed peer: its pending call is rejected", async () => {
    const call = timed(
      broker.call("nodemath.slow", { ms: 60_000 }, { nodeID: "node-victim", timeout: 15_000 }),
    );
    await waitFor(() => broker.transit!.pendingCount === 1, "the request to be pending");
    await victim.kill();
    const r = await call;
    assert.ok(r.error instanceof RequestRejectedError, String(r.error));
    assert.ok(r.ms < 10_000, `rejected after ${Math.round(r.ms)} ms`);
  });

  await t.step("graceful stops are seen both ways", async () => {
    await leaver.broker.stop();
    const gone = await peer.waitForEvent(local("$node.disconnected", "deno-leaver"), 5000);
    assert.equal(gone.unexpected, false);
    await peer.stop();
    const left = (await log.waitFor(
      (e) => e.handler === "$node.disconnected" && ((e.data as Rec).node as Rec).id === "node-1",
      "Deno to see node-1 leave",
    )).data as Rec;
    assert.equal(left.unexpected, false);
  });
}
