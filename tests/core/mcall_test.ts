import assert from "node:assert/strict";
import {
  type Context,
  MoleculerServerError,
  RequestTimeoutError,
  ServiceBroker,
  ServiceNotFoundError,
} from "../../mod.ts";
import { clusterOptions, memoryBus, scoped, startCluster } from "../_helpers/core.ts";

type AB = { a: number; b: number };

function mathService(broker: ServiceBroker): void {
  broker.createService({
    name: "math",
    actions: {
      add: (ctx: Context<AB>) => ctx.params.a + ctx.params.b,
      slow: async (ctx: Context<{ ms: number }>) => {
        await new Promise((r) => setTimeout(r, ctx.params.ms));
        return ctx.params.ms;
      },
      fail: () => {
        throw new MoleculerServerError("boom", 500, "BOOM");
      },
      whoami: (ctx: Context) => ({
        level: ctx.level,
        parentID: ctx.parentID,
        requestID: ctx.requestID,
        caller: ctx.caller,
        timeout: ctx.timeout,
        meta: ctx.meta,
      }),
      tag: (ctx: Context<{ tag: string }>) => {
        ctx.meta[ctx.params.tag] = true;
        return ctx.params.tag;
      },
    },
  });
}

Deno.test("mcall with an array resolves to the results in order", async () => {
  await using broker = scoped();
  mathService(broker);
  await broker.start();
  const results = await broker.mcall<number>([
    { action: "math.add", params: { a: 1, b: 2 } },
    { action: "math.slow", params: { ms: 20 } },
    { action: "math.add", params: { a: 10, b: 20 } },
  ]);
  assert.deepEqual(results, [3, 20, 30]);
});

Deno.test("mcall with an object resolves to the results under the same keys", async () => {
  await using broker = scoped();
  mathService(broker);
  await broker.start();
  const results = await broker.mcall<number>({
    small: { action: "math.add", params: { a: 1, b: 2 } },
    big: { action: "math.add", params: { a: 100, b: 200 } },
  });
  assert.deepEqual(results, { small: 3, big: 300 });
});

Deno.test("mcall rejects with the first error unless settled", async () => {
  await using broker = scoped();
  mathService(broker);
  await broker.start();
  await assert.rejects(
    broker.mcall([{ action: "math.add", params: { a: 1, b: 2 } }, { action: "math.fail" }]),
    (err: unknown) => err instanceof MoleculerServerError && err.type === "BOOM",
  );
  await assert.rejects(
    broker.mcall({ ok: { action: "math.add", params: { a: 1, b: 2 } }, gone: { action: "no.pe" } }),
    ServiceNotFoundError,
  );
});

Deno.test("mcall settled reports every outcome, in both forms", async () => {
  await using broker = scoped();
  mathService(broker);
  await broker.start();
  const list = await broker.mcall<PromiseSettledResult<number>>([
    { action: "math.add", params: { a: 1, b: 2 } },
    { action: "math.fail" },
  ], { settled: true });
  assert.equal(list.length, 2);
  assert.deepEqual(list[0], { status: "fulfilled", value: 3 });
  assert.equal(list[1]?.status, "rejected");
  assert.ok((list[1] as PromiseRejectedResult).reason instanceof MoleculerServerError);

  const named = await broker.mcall<PromiseSettledResult<number>>({
    ok: { action: "math.add", params: { a: 2, b: 2 } },
    bad: { action: "no.such" },
  }, { settled: true });
  assert.deepEqual(Object.keys(named), ["ok", "bad"]);
  assert.deepEqual(named.ok, { status: "fulfilled", value: 4 });
  assert.equal(named.bad?.status, "rejected");
  assert.ok((named.bad as PromiseRejectedResult).reason instanceof ServiceNotFoundError);
});

Deno.test("mcall shares its options; a call's own options are merged over them", async () => {
  await using broker = scoped();
  mathService(broker);
  await broker.start();
  const settled = await broker.mcall<PromiseSettledResult<number>>([
    { action: "math.slow", params: { ms: 150 } },
    { action: "math.slow", params: { ms: 150 }, options: { timeout: 1000 } },
    { action: "math.whoami", options: { meta: { own: 1 } } },
  ], { timeout: 50, meta: { shared: 1 }, settled: true });
  assert.equal(settled[0]?.status, "rejected");
  assert.ok((settled[0] as PromiseRejectedResult).reason instanceof RequestTimeoutError);
  assert.deepEqual(settled[1], { status: "fulfilled", value: 150 });
  const who = (settled[2] as PromiseFulfilledResult<unknown>).value as {
    timeout: number;
    meta: unknown;
  };
  assert.equal(who.timeout, 50, "the shared timeout still applies to a call with own options");
  assert.deepEqual(who.meta, { own: 1 }, "option by option: the call's meta replaces the shared");
});

Deno.test("a malformed definition rejects with INVALID_PARAMETERS and calls nothing", async () => {
  await using broker = scoped();
  let calls = 0;
  broker.createService({ name: "count", actions: { hit: () => ++calls } });
  await broker.start();
  const bad: unknown[] = [
    "count.hit",
    null,
    [{ action: "count.hit" }, { params: {} }],
    [{ action: "count.hit" }, 42],
    { a: { action: "count.hit" }, b: { action: "" } },
    [{ action: "count.hit", options: "fast" }],
  ];
  for (const def of bad) {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      broker.mcall(def as any),
      (err: unknown) =>
        err instanceof MoleculerServerError && err.type === "INVALID_PARAMETERS" &&
        err.message.startsWith("Invalid calling definition"),
      `rejects ${JSON.stringify(def)}`,
    );
  }
  assert.equal(calls, 0, "no call starts when the definition is malformed");
  assert.deepEqual(await broker.mcall([]), []);
  assert.deepEqual(await broker.mcall({}), {});
});

Deno.test("ctx.mcall makes child calls on remote nodes and merges their meta back", async () => {
  const bus = memoryBus();
  const server = new ServiceBroker(clusterOptions("mcall-server", bus));
  const client = new ServiceBroker(clusterOptions("mcall-client", bus));
  mathService(server);
  client.createService({
    name: "gateway",
    actions: {
      fanout: async (ctx: Context) => {
        const [who, tagA, tagB] = await ctx.mcall([
          { action: "math.whoami" },
          { action: "math.tag", params: { tag: "a" } },
          { action: "math.tag", params: { tag: "b" }, options: { meta: { extra: 1 } } },
        ], { timeout: 2000 });
        return { who, tags: [tagA, tagB], meta: ctx.meta, id: ctx.id, requestID: ctx.requestID };
      },
    },
  });
  try {
    await startCluster([server, client], ["math", "gateway"]);
    const out = await client.call<{
      who: Record<string, unknown>;
      tags: string[];
      meta: Record<string, unknown>;
      id: string;
      requestID: string;
    }>("gateway.fanout", {}, { meta: { user: "ann" } });
    assert.deepEqual(out.tags, ["a", "b"]);
    assert.equal(out.who.level, 2);
    assert.equal(out.who.parentID, out.id);
    assert.equal(out.who.requestID, out.requestID);
    assert.equal(out.who.caller, "gateway");
    assert.deepEqual(out.who.meta, { user: "ann" });
    assert.ok((out.who.timeout as number) > 0 && (out.who.timeout as number) <= 2000);
    assert.equal(out.meta.a, true, "meta set by a remote callee is merged back");
    assert.equal(out.meta.b, true);
  } finally {
    await client.stop();
    await server.stop();
  }
});
