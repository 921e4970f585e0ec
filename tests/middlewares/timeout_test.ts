import assert from "node:assert/strict";
import { type Context, RequestSkippedError, RequestTimeoutError } from "../../mod.ts";
import { scoped, until } from "../_helpers/core.ts";
import { cluster } from "./_cluster.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `sleepy.wait` sleeps `ms` and reports the timeout its context had. */
const sleepy = {
  name: "sleepy",
  actions: {
    async wait(ctx: Context<{ ms: number }>) {
      const timeout = ctx.timeout;
      await sleep(ctx.params.ms);
      return { timeout };
    },
    quick: {
      timeout: 30,
      async handler(ctx: Context<{ ms: number }>) {
        await sleep(ctx.params.ms);
        return { timeout: ctx.timeout };
      },
    },
  },
};

Deno.test("timeout: broker requestTimeout < action timeout < call opts.timeout (local)", async () => {
  await using broker = scoped({ requestTimeout: 40 });
  broker.createService(sleepy);
  await broker.start();
  // broker-wide
  await assert.rejects(broker.call("sleepy.wait", { ms: 80 }), RequestTimeoutError);
  assert.deepEqual(await broker.call("sleepy.wait", { ms: 1 }), { timeout: 40 });
  // the action's own beats the broker's
  assert.deepEqual(await broker.call("sleepy.quick", { ms: 1 }), { timeout: 30 });
  await assert.rejects(broker.call("sleepy.quick", { ms: 50 }), RequestTimeoutError);
  // the call's beats both; 0 turns it off
  assert.deepEqual(await broker.call("sleepy.quick", { ms: 50 }, { timeout: 200 }), {
    timeout: 200,
  });
  assert.deepEqual(await broker.call("sleepy.wait", { ms: 60 }, { timeout: 0 }), {
    timeout: null,
  });
  await sleep(60); // the timed-out handlers finish
});

Deno.test("timeout: the same three levels on a remote call", async () => {
  await using c = await cluster([
    { id: "caller", options: { requestTimeout: 40 } },
    { id: "server", services: [sleepy] },
  ], { caller: ["sleepy.quick", 1] });
  const caller = c.nodes.caller!;
  const err = await caller.call("sleepy.wait", { ms: 80 }).catch((e: Error) => e);
  assert.ok(err instanceof RequestTimeoutError, String(err));
  assert.equal((err as RequestTimeoutError & { data: { nodeID: string } }).data.nodeID, "server");
  assert.deepEqual(await caller.call("sleepy.wait", { ms: 1 }), { timeout: 40 });
  // the remote action's announced timeout is used by its callers
  assert.deepEqual(await caller.call("sleepy.quick", { ms: 1 }), { timeout: 30 });
  await assert.rejects(caller.call("sleepy.quick", { ms: 60 }), RequestTimeoutError);
  assert.deepEqual(await caller.call("sleepy.quick", { ms: 50 }, { timeout: 300 }), {
    timeout: 300,
  });
  await sleep(80);
});

Deno.test("timeout: distributed, a child call gets only what is left of its parent's time", async () => {
  const seen: Array<{ inner?: number | null; error?: unknown }> = [];
  await using c = await cluster([
    { id: "caller" },
    {
      id: "mid",
      services: [{
        name: "outer",
        actions: {
          async run(ctx: Context<{ before: number; inner: number }>) {
            await sleep(ctx.params.before);
            try {
              const r = await ctx.call<{ timeout: number | null }>("sleepy.wait", {
                ms: ctx.params.inner,
              });
              seen.push({ inner: r.timeout });
              return r;
            } catch (error) {
              seen.push({ error });
              throw error;
            }
          },
        },
      }],
    },
    { id: "leaf", services: [sleepy] },
  ], { caller: ["outer.run", 1] });
  await c.nodes.mid!.waitForServices("sleepy", 2000, 5);
  const caller = c.nodes.caller!;
  // 200 ms for the whole chain; 50 spent before the child call: it gets about 150.
  await caller.call("outer.run", { before: 50, inner: 1 }, { timeout: 200 });
  const inner = seen[0]!.inner!;
  assert.ok(inner <= 152 && inner >= 100, `the child call's timeout was ${inner}`);
  // The child runs past what is left: it times out with the parent.
  await assert.rejects(
    caller.call("outer.run", { before: 10, inner: 300 }, { timeout: 100 }),
    RequestTimeoutError,
  );
  await until(() => seen.length === 2, "the middle node to see its child fail");
  assert.ok(seen[1]!.error instanceof RequestTimeoutError, String(seen[1]!.error));
  // Nothing is left when the child call is made: it is skipped, not sent.
  await assert.rejects(
    caller.call("outer.run", { before: 120, inner: 1 }, { timeout: 60 }),
    RequestTimeoutError,
  );
  await until(() => seen.length === 3, "the middle node to try its child call");
  assert.ok(seen[2]!.error instanceof RequestSkippedError, String(seen[2]!.error));
  await sleep(300);
});
