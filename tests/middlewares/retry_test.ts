import assert from "node:assert/strict";
import {
  type ActionInfo,
  type Context,
  type MiddlewareHooks,
  MoleculerClientError,
  MoleculerServerError,
  RequestTimeoutError,
} from "../../mod.ts";
import { RETRY_DEFAULTS, retryMiddleware } from "../../src/middlewares/retry.ts";
import { deferred, scoped } from "../_helpers/core.ts";
import { callMany, cluster, tally, whoService } from "./_cluster.ts";

const serverError = (ctx: Context): never => {
  throw new MoleculerServerError(`down on ${ctx.broker.nodeID}`, 500, "DOWN");
};

const fast = { enabled: true, retries: 3, delay: 1, maxDelay: 1, factor: 1 };

/** A local service whose action fails `failures` times (with `make()`), then answers "ok". */
function flaky(failures: number, make: () => Error = () => new MoleculerServerError("flaky")) {
  const calls: number[] = [];
  return {
    calls,
    handler() {
      calls.push(performance.now());
      if (calls.length <= failures) throw make();
      return "ok";
    },
  };
}

Deno.test("retry: calls that hit a failing node are retried onto a healthy one", async () => {
  const hits = { bad: 0 };
  await using c = await cluster([
    { id: "caller", options: { retryPolicy: fast } },
    { id: "good", services: [whoService({ failing: false }, serverError)] },
    {
      id: "bad",
      services: [whoService({ failing: true }, (ctx) => {
        hits.bad++;
        return serverError(ctx);
      })],
    },
  ], { caller: ["who.ami", 2] });
  const outcomes = await callMany(c.nodes.caller!, "who.ami", 20);
  assert.deepEqual(tally(outcomes), { good: 20 });
  assert.ok(hits.bad >= 5, `round-robin sent calls to the failing node too (${hits.bad})`);
});

Deno.test("retry: without a policy the same calls fail", async () => {
  await using c = await cluster([
    { id: "caller" },
    { id: "good", services: [whoService({ failing: false }, serverError)] },
    { id: "bad", services: [whoService({ failing: true }, serverError)] },
  ], { caller: ["who.ami", 2] });
  const outcomes = await callMany(c.nodes.caller!, "who.ami", 10);
  assert.deepEqual(tally(outcomes), { good: 5, "!MoleculerServerError": 5 });
});

Deno.test("retry: each attempt passes through the user's middlewares once, with its own node", async () => {
  const seen: string[] = [];
  const record: MiddlewareHooks = {
    name: "record",
    remoteAction: (next) => (ctx) =>
      Promise.resolve(next(ctx)).then(
        (r) => {
          seen.push(`ok ${ctx.nodeID}`);
          return r;
        },
        (e) => {
          seen.push(`failed ${ctx.nodeID}`);
          throw e;
        },
      ),
  };
  await using c = await cluster([
    { id: "caller", options: { retryPolicy: fast, middlewares: [record] } },
    { id: "bad", services: [whoService({ failing: true }, serverError)] },
    { id: "good", services: [whoService({ failing: false }, serverError)] },
  ], { caller: ["who.ami", 2] });
  const caller = c.nodes.caller!;
  const first = caller.registry.actions.get("who.ami")!.items[0]!.id;
  const answers = await callMany(caller, "who.ami", 2);
  assert.deepEqual(answers, ["good", "good"]);
  assert.deepEqual(
    seen,
    first === "bad"
      ? ["failed bad", "ok good", "failed bad", "ok good"]
      : ["ok good", "failed bad", "ok good"],
  );
});

Deno.test("retry: waits delay × factor^n, at most maxDelay, then throws the last error", async () => {
  const f = flaky(Infinity);
  await using broker = scoped({
    retryPolicy: { enabled: true, retries: 3, delay: 20, factor: 2, maxDelay: 30 },
  });
  broker.createService({ name: "f", actions: { go: f.handler } });
  await broker.start();
  await assert.rejects(broker.call("f.go"), MoleculerServerError);
  assert.equal(f.calls.length, 4, "first attempt + 3 retries");
  const gaps = f.calls.slice(1).map((t, i) => t - f.calls[i]!);
  for (const [i, min] of [20, 30, 30].entries()) {
    assert.ok(gaps[i]! >= min - 2, `gap ${i} is ${gaps[i]} ms, expected ≥ ${min}`);
    assert.ok(gaps[i]! < min + 150, `gap ${i} is ${gaps[i]} ms, expected about ${min}`);
  }
});

Deno.test("retry: only retryable errors, unless `check` says otherwise", async () => {
  const client = flaky(Infinity, () => new MoleculerClientError("no"));
  await using broker = scoped({ retryPolicy: fast });
  broker.createService({ name: "f", actions: { go: client.handler } });
  await broker.start();
  await assert.rejects(broker.call("f.go"), MoleculerClientError);
  assert.equal(client.calls.length, 1);

  const custom = flaky(2, () => new Error("plain"));
  await using other = scoped({
    retryPolicy: { ...fast, check: (err) => (err as Error).message === "plain" },
  });
  other.createService({ name: "f", actions: { go: custom.handler } });
  await other.start();
  assert.equal(await other.call("f.go"), "ok");
  assert.equal(custom.calls.length, 3);
});

Deno.test("retry: `opts.retries` sets the count for one call; 0 turns retries off", async () => {
  const f = flaky(Infinity);
  await using broker = scoped({ retryPolicy: fast });
  broker.createService({ name: "f", actions: { go: f.handler } });
  await broker.start();
  await assert.rejects(broker.call("f.go", {}, { retries: 1 }));
  assert.equal(f.calls.length, 2);
  await assert.rejects(broker.call("f.go", {}, { retries: 0 }));
  assert.equal(f.calls.length, 3);
  await assert.rejects(broker.call("f.go", {}, { retries: 5 }));
  assert.equal(f.calls.length, 9);
});

Deno.test("retry: an action's own `retryPolicy` turns retries on for it alone", async () => {
  const own = flaky(2);
  const other = flaky(Infinity);
  await using broker = scoped(); // retries disabled broker-wide
  broker.createService({
    name: "f",
    actions: {
      own: { retryPolicy: { enabled: true, retries: 2, delay: 1 }, handler: own.handler },
      other: other.handler,
    },
  });
  await broker.start();
  assert.equal(await broker.call("f.own"), "ok");
  assert.equal(own.calls.length, 3);
  await assert.rejects(broker.call("f.other"));
  assert.equal(other.calls.length, 1);
});

Deno.test("retry: a remote action's announced `retryPolicy` is followed by its callers", async () => {
  const f = flaky(2);
  await using c = await cluster([
    { id: "caller" },
    {
      id: "server",
      services: [{
        name: "f",
        actions: {
          go: { retryPolicy: { enabled: true, retries: 3, delay: 1 }, handler: f.handler },
        },
      }],
    },
  ], { caller: ["f.go", 1] });
  assert.equal(await c.nodes.caller!.call("f.go"), "ok");
  assert.equal(f.calls.length, 3);
});

Deno.test("retry: the serving node leaves retries of remote requests to the caller", async () => {
  const f = flaky(Infinity);
  await using c = await cluster([
    { id: "caller" }, // no policy
    {
      id: "server",
      options: { retryPolicy: fast },
      services: [{ name: "f", actions: { go: f.handler } }],
    },
  ], { caller: ["f.go", 1] });
  await assert.rejects(c.nodes.caller!.call("f.go"), MoleculerServerError);
  assert.equal(f.calls.length, 1);
});

Deno.test("retry: a timed-out attempt is retried (RequestTimeoutError is retryable)", async () => {
  let attempts = 0;
  // A first attempt that never answers before its timeout, however loaded the machine is.
  const stuck = deferred<void>();
  await using broker = scoped({ retryPolicy: fast });
  broker.createService({
    name: "f",
    actions: {
      go: {
        timeout: 20,
        async handler() {
          if (++attempts === 1) await stuck.promise;
          return attempts;
        },
      },
    },
  });
  await broker.start();
  assert.equal(await broker.call("f.go"), 2);
  attempts = 0;
  await assert.rejects(broker.call("f.go", {}, { retries: 0 }), RequestTimeoutError);
  stuck.resolve(); // let the abandoned attempts finish
});

Deno.test("retry: stop() ends a retry that waits, with its last error, and leaves no timer", async () => {
  const f = flaky(Infinity);
  const broker = scoped({ retryPolicy: { enabled: true, retries: 3, delay: 60_000 } });
  broker.createService({ name: "f", actions: { go: f.handler } });
  await broker.start();
  const call = broker.call("f.go").catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 5));
  await broker.stop();
  const err = await call;
  assert.ok(err instanceof MoleculerServerError, String(err));
  assert.equal(f.calls.length, 1);
});

Deno.test("retry: disabled, it leaves handlers untouched", () => {
  const mw = retryMiddleware({ ...RETRY_DEFAULTS }, {
    nodeID: "x",
    logger: undefined as never,
    signal: new AbortController().signal,
    call: () => Promise.resolve(),
  });
  const next = () => 1;
  const info = { name: "s.a", schema: {} } as unknown as ActionInfo;
  assert.equal(mw.localAction!(next, info), next);
  assert.equal(mw.remoteAction!(next, info), next);
});
