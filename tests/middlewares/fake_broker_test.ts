/**
 * Middlewares driven directly, with contexts of a small fake `BrokerApi` and no
 * `ServiceBroker`: what each one does to a handler, and the order the built-in chain puts
 * them in.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type ActionInfo,
  type BrokerApi,
  Context,
  isRetryableError,
  type Logger,
  QueueIsFullError,
  RequestTimeoutError,
} from "../../mod.ts";
import type { CallOptions } from "../../src/core/context.ts";
import { timeoutMiddleware } from "../../src/middlewares/timeout.ts";
import { resolveRetryPolicy, retryMiddleware } from "../../src/middlewares/retry.ts";
import { bulkheadMiddleware, resolveBulkheadOptions } from "../../src/middlewares/bulkhead.ts";
import { resolveCircuitBreakerOptions } from "../../src/middlewares/circuit_breaker.ts";
import { resolveTrackingOptions } from "../../src/middlewares/tracking.ts";
import { buildMiddlewareChain } from "../../src/middlewares/builtin.ts";
import { deferred } from "../_helpers/core.ts";

const NODE = "fake-node";

/** A logger that keeps its warnings and calls `onWarn` after each. */
function recordingLogger(
  onWarn: (msg: string) => void = () => {},
): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const quiet = () => {};
  return {
    warnings,
    trace: quiet,
    debug: quiet,
    info: quiet,
    warn: (msg: string) => {
      warnings.push(msg);
      onWarn(msg);
    },
    error: quiet,
    fatal: quiet,
  };
}

/** The part of a broker a context and these middlewares read: its node id and logger. */
const fakeBroker = {
  nodeID: NODE,
  logger: recordingLogger(),
} as Partial<BrokerApi> as BrokerApi;

function actionInfo(
  name: string,
  schema: Record<string, unknown> = {},
): ActionInfo {
  return {
    name,
    rawName: name.slice(name.indexOf(".") + 1),
    service: null,
    params: undefined,
    visibility: "published",
    timeout: undefined,
    schema,
  };
}

function context(
  action: string,
  init: { timeout?: number; params?: unknown; options?: CallOptions } = {},
): Context {
  return new Context(fakeBroker, {
    action: { name: action },
    timeout: init.timeout ?? null,
    params: init.params ?? {},
    options: init.options,
  });
}

Deno.test("timeout (fake broker): a local call past ctx.timeout fails, naming the action and node", async () => {
  const mw = timeoutMiddleware();
  const never = deferred<string>();
  const slow = mw.localAction!(() => never.promise, actionInfo("slow.go"));

  const err = await Promise.resolve(slow(context("slow.go", { timeout: 5 })))
    .catch((e) => e);
  assert.ok(err instanceof RequestTimeoutError, String(err));
  assert.deepEqual(err.data, { action: "slow.go", nodeID: NODE });
  never.resolve("too late"); // the caller has its error; the late result goes nowhere

  const quick = mw.localAction!(
    () => Promise.resolve("in time"),
    actionInfo("quick.go"),
  );
  assert.equal(await quick(context("quick.go", { timeout: 1000 })), "in time");
  // No timeout, or a synchronous result: the handler's value is returned as is, with no timer.
  const sync = mw.localAction!(() => "sync", actionInfo("sync.go"));
  assert.equal(sync(context("sync.go", { timeout: 1000 })), "sync");
  const value = Promise.resolve("untimed");
  assert.equal(
    mw.localAction!(() => value, actionInfo("u.go"))(context("u.go")),
    value,
  );
});

Deno.test("retry (fake broker): backs off delay × factor^n, retries through call(), returns the first success", async () => {
  const logger = recordingLogger();
  const calls: { name: string; params: unknown; opts: CallOptions }[] = [];
  let failuresLeft = 2;
  const mw = retryMiddleware(
    {
      enabled: true,
      retries: 3,
      delay: 1,
      maxDelay: 3,
      factor: 2,
      check: isRetryableError,
    },
    {
      nodeID: NODE,
      logger,
      signal: new AbortController().signal,
      call: (name, params, opts) => {
        calls.push({ name, params, opts });
        return failuresLeft-- > 0
          ? Promise.reject(
            new RequestTimeoutError({ action: name, nodeID: "other" }),
          )
          : Promise.resolve("recovered");
      },
    },
  );
  const failing = mw.localAction!(
    () =>
      Promise.reject(
        new RequestTimeoutError({ action: "flaky.go", nodeID: NODE }),
      ),
    actionInfo("flaky.go"),
  );
  const params = { id: 7 };
  const opts: CallOptions = { meta: { a: 1 }, fallbackResponse: "fallback" };

  assert.equal(
    await failing(context("flaky.go", { params, options: opts })),
    "recovered",
  );
  assert.equal(
    calls.length,
    3,
    "two failed retries, then the one that succeeds",
  );
  for (const call of calls) {
    assert.equal(call.name, "flaky.go");
    assert.equal(call.params, params);
    assert.deepEqual(call.opts.meta, { a: 1 });
    assert.equal(
      "fallbackResponse" in call.opts,
      false,
      "the fallback applies once, at the end",
    );
  }
  assert.deepEqual(logger.warnings.map((m) => m.replace(/ \(.*\)/, "")), [
    "Call of 'flaky.go' failed: retry 1/3 in 1 ms",
    "Call of 'flaky.go' failed: retry 2/3 in 2 ms",
    "Call of 'flaky.go' failed: retry 3/3 in 3 ms",
  ]);
});

Deno.test("retry (fake broker): the stop signal ends a waiting retry with the last error", async () => {
  const stopping = new AbortController();
  // The broker stops while the first retry waits its (long) delay.
  const logger = recordingLogger(() => queueMicrotask(() => stopping.abort()));
  let called = false;
  const mw = retryMiddleware(
    {
      enabled: true,
      retries: 3,
      delay: 60_000,
      maxDelay: 60_000,
      factor: 1,
      check: () => true,
    },
    {
      nodeID: NODE,
      logger,
      signal: stopping.signal,
      call: () => {
        called = true;
        return Promise.resolve("never");
      },
    },
  );
  const boom = new Error("boom");
  const failing = mw.localAction!(
    () => Promise.reject(boom),
    actionInfo("x.go"),
  );

  await assert.rejects(
    Promise.resolve(failing(context("x.go"))),
    (err) => err === boom,
  );
  assert.equal(called, false);
  assert.equal(logger.warnings.length, 1);
});

Deno.test("retry (fake broker): requests from other nodes and disabled policies are left alone", () => {
  const mw = retryMiddleware(
    {
      enabled: false,
      retries: 3,
      delay: 1,
      maxDelay: 1,
      factor: 1,
      check: () => true,
    },
    {
      nodeID: NODE,
      logger: recordingLogger(),
      signal: new AbortController().signal,
      call: () => Promise.reject(new Error("no retry expected")),
    },
  );
  const next = () => "as is";
  assert.equal(mw.localAction!(next, actionInfo("off.go")), next);
  const own = mw.localAction!(
    next,
    actionInfo("on.go", { retryPolicy: { enabled: true } }),
  );
  assert.notEqual(own, next);
  const remote = new Context(fakeBroker, {
    nodeID: "elsewhere",
    action: { name: "on.go" },
  });
  assert.equal(own(remote), "as is");
});

Deno.test("bulkhead (fake broker): one runs, one waits, the next is refused, the waiting one starts on release", async () => {
  const mw = bulkheadMiddleware({
    enabled: true,
    concurrency: 1,
    maxQueueSize: 1,
  });
  const started: number[] = [];
  const gates = [deferred<string>(), deferred<string>()];
  const secondStarted = deferred();
  const limited = mw.localAction!((ctx: Context<{ i: number }>) => {
    started.push(ctx.params.i);
    if (ctx.params.i === 1) secondStarted.resolve();
    return gates[ctx.params.i]!.promise;
  }, actionInfo("job.run"));

  const first = limited(context("job.run", { params: { i: 0 } })) as Promise<
    string
  >;
  const second = limited(context("job.run", { params: { i: 1 } })) as Promise<
    string
  >;
  const refused = await Promise.resolve(
    limited(context("job.run", { params: { i: 2 } })),
  )
    .catch((e) => e);
  assert.ok(refused instanceof QueueIsFullError, String(refused));
  assert.deepEqual(refused.data, {
    action: "job.run",
    nodeID: NODE,
    size: 1,
    limit: 1,
  });
  assert.deepEqual(started, [0], "the second call waits for the first");

  gates[0]!.resolve("first");
  assert.equal(await first, "first");
  await secondStarted.promise;
  assert.deepEqual(started, [0, 1]);
  gates[1]!.resolve("second");
  assert.equal(await second, "second");
});

Deno.test("built-in chain (fake broker): retry ⊃ user middlewares ⊃ circuit breaker ⊃ timeout", async () => {
  const order: string[] = [];
  const broadcasts: [string, unknown][] = [];
  const chain = buildMiddlewareChain({
    middlewares: [{
      name: "Observer",
      localAction: (next) => async (ctx) => {
        try {
          return await next(ctx);
        } catch (err) {
          order.push(`user middleware saw ${(err as Error).name}`);
          throw err;
        }
      },
    }],
    retryPolicy: resolveRetryPolicy({ enabled: true, retries: 1, delay: 0 }),
    circuitBreaker: resolveCircuitBreakerOptions({
      enabled: true,
      threshold: 1,
      minRequestCount: 1,
    }),
    tracking: resolveTrackingOptions(undefined),
    bulkhead: resolveBulkheadOptions(undefined),
    cacher: null,
    validator: null,
  }, {
    nodeID: NODE,
    logger: recordingLogger(),
    signal: new AbortController().signal,
    getLogger: () => recordingLogger(),
    call: (name) => {
      order.push(`retried ${name} through call()`);
      return Promise.resolve("retried");
    },
    broadcast: (event, payload) => {
      broadcasts.push([event, payload]);
      return Promise.resolve();
    },
    serviceOf: (action) => action.split(".")[0],
  });
  const never = deferred();
  const handler = chain.middlewares.wrap(
    "localAction",
    () => never.promise,
    actionInfo("slow.go"),
  );

  assert.equal(await handler(context("slow.go", { timeout: 5 })), "retried");
  assert.deepEqual(order, [
    "user middleware saw RequestTimeoutError",
    "retried slow.go through call()",
  ]);
  // The local timeout counted as a failure of the endpoint: the breaker wraps the timeout.
  assert.equal(chain.circuitBreaker.state(NODE, "slow.go"), "open");
  assert.deepEqual(broadcasts, [[
    "$circuit-breaker.opened",
    {
      nodeID: NODE,
      service: "slow",
      action: "slow.go",
      failures: 1,
      count: 1,
      rate: 1,
    },
  ]]);
  assert.equal(chain.tracker.size, 0);
  assert.equal(chain.throttler.pending, 0);
  chain.circuitBreaker.clear(); // its half-open timer
  never.resolve();
});
