import assert from "node:assert/strict";
import * as os from "node:os";
import { BrokerOptionsError, ServiceBroker } from "../../mod.ts";
import { resolveOptions } from "../../src/broker/options.ts";

function rejects(options: unknown, option: string, pattern?: RegExp): void {
  assert.throws(
    () => resolveOptions(options as never),
    (err: unknown) => {
      assert.ok(
        err instanceof BrokerOptionsError,
        `expected BrokerOptionsError, got ${err}`,
      );
      assert.equal(err.code, 500);
      assert.equal(err.type, "BROKER_OPTIONS_ERROR");
      assert.match(err.message, new RegExp(`'${option.replace(".", "\\.")}'`));
      if (pattern) assert.match(err.message, pattern);
      return true;
    },
  );
}

Deno.test("resolveOptions() fills every default", () => {
  const o = resolveOptions({});
  assert.equal(o.nodeID, `${os.hostname().toLowerCase()}-${Deno.pid}`);
  assert.equal(o.namespace, "");
  assert.equal(o.transporter, null);
  assert.equal(o.serializer, "JSON");
  assert.equal(o.logger, true);
  assert.equal(o.logLevel, "info");
  assert.equal(o.logFormat, "PLAIN");
  assert.equal(o.requestTimeout, 0);
  assert.equal(o.maxCallLevel, 0);
  assert.equal(o.heartbeatInterval, 10);
  assert.equal(o.heartbeatTimeout, 30);
  assert.equal(o.cleanOfflineNodesTimeout, 600);
  assert.equal(o.protocolVersion, "5");
  assert.deepEqual(o.registry, {
    strategy: "RoundRobin",
    strategyOptions: {},
    preferLocal: true,
    stopDelay: 100,
  });
  const { check: retryCheck, ...retry } = o.retryPolicy;
  assert.deepEqual(retry, { enabled: false, retries: 5, delay: 100, maxDelay: 1000, factor: 2 });
  assert.equal(typeof retryCheck, "function");
  const { check: breakerCheck, ...breaker } = o.circuitBreaker;
  assert.deepEqual(breaker, {
    enabled: false,
    threshold: 0.5,
    windowTime: 60,
    minRequestCount: 20,
    halfOpenTime: 10_000,
  });
  assert.equal(typeof breakerCheck, "function");
  assert.deepEqual(o.bulkhead, { enabled: false, concurrency: 10, maxQueueSize: 100 });
  assert.deepEqual(o.tracking, { enabled: false, shutdownTimeout: 5000 });
  assert.deepEqual(o.transit, {
    maxQueueSize: 50_000,
    disableVersionCheck: false,
    serviceChangedDebounceTime: 1000,
    discoverWaitTime: 500,
  });
  assert.deepEqual(o.middlewares, []);
  assert.deepEqual(o.metadata, {});
  assert.equal(o.cacher, false);
  assert.equal(o.internalServices, true);
});

Deno.test("resolveOptions() takes a string as the nodeID", () => {
  assert.equal(resolveOptions("my-node").nodeID, "my-node");
});

Deno.test("resolveOptions() keeps given values", () => {
  const o = resolveOptions({
    nodeID: "n-1",
    namespace: "dev",
    requestTimeout: 500,
    maxCallLevel: 5,
    protocolVersion: "4",
    registry: { strategy: "Random", preferLocal: false, stopDelay: 0 },
    transit: { discoverWaitTime: 10, maxQueueSize: 3 },
    metadata: { region: "eu" },
    internalServices: false,
  });
  assert.equal(o.nodeID, "n-1");
  assert.equal(o.namespace, "dev");
  assert.equal(o.requestTimeout, 500);
  assert.equal(o.maxCallLevel, 5);
  assert.equal(o.protocolVersion, "4");
  assert.deepEqual(o.registry, {
    strategy: "Random",
    strategyOptions: {},
    preferLocal: false,
    stopDelay: 0,
  });
  assert.equal(o.transit.discoverWaitTime, 10);
  assert.equal(o.transit.maxQueueSize, 3);
  assert.equal(o.transit.serviceChangedDebounceTime, 1000);
  assert.deepEqual(o.metadata, { region: "eu" });
  assert.equal(o.internalServices, false);
});

Deno.test("resolveOptions() rejects an unknown option by name", () => {
  rejects({ nodeId: "x" }, "nodeId", /Unknown broker option/);
  rejects({ transporterr: "nats://x" }, "transporterr");
});

Deno.test("resolveOptions() rejects unknown registry and transit keys by name", () => {
  rejects({ registry: { strategi: "Random" } }, "registry.strategi");
  rejects({ transit: { discoverWait: 1 } }, "transit.discoverWait");
});

Deno.test("resolveOptions() checks the fault-tolerance groups key by key", () => {
  const check = () => true;
  const o = resolveOptions({
    registry: { strategy: "Shard", strategyOptions: { shardKey: "id" } },
    retryPolicy: { enabled: true, retries: 2, check },
    circuitBreaker: { enabled: true, threshold: 1, minRequestCount: 3 },
    bulkhead: { enabled: true, concurrency: 2, maxQueueSize: 0 },
    tracking: { enabled: true, shutdownTimeout: 50 },
  });
  assert.deepEqual(o.registry.strategyOptions, { shardKey: "id" });
  assert.equal(o.retryPolicy.retries, 2);
  assert.equal(o.retryPolicy.delay, 100);
  assert.equal(o.retryPolicy.check, check);
  assert.equal(o.circuitBreaker.threshold, 1);
  assert.equal(o.circuitBreaker.windowTime, 60);
  assert.deepEqual(o.bulkhead, { enabled: true, concurrency: 2, maxQueueSize: 0 });
  assert.deepEqual(o.tracking, { enabled: true, shutdownTimeout: 50 });
  rejects({ retryPolicy: { retrys: 1 } }, "retryPolicy.retrys", /Unknown broker option/);
  rejects({ retryPolicy: { enabled: "yes" } }, "retryPolicy.enabled");
  rejects({ retryPolicy: { check: "retryable" } }, "retryPolicy.check");
  rejects({ circuitBreaker: { threshold: 1.5 } }, "circuitBreaker.threshold", /0 to 1/);
  rejects({ circuitBreaker: { halfOpenTime: -1 } }, "circuitBreaker.halfOpenTime");
  rejects({ bulkhead: { concurrency: 0 } }, "bulkhead.concurrency", /≥ 1/);
  rejects({ tracking: { shutdownTimeout: "5s" } }, "tracking.shutdownTimeout");
  rejects({ tracking: true }, "tracking", /must be an object/);
  rejects({ registry: { strategyOptions: 3 } }, "registry.strategyOptions");
  rejects({ registry: { strategy: 3 } }, "registry.strategy");
});

Deno.test("resolveOptions() rejects a nodeID with bad characters or empty", () => {
  for (const bad of ["a b", "a.b", "a*", "a>b", "a/b", "", "tab\t"]) {
    rejects({ nodeID: bad }, "nodeID");
  }
  rejects({ nodeID: 42 }, "nodeID");
});

Deno.test("resolveOptions() rejects a bad namespace but allows an empty one", () => {
  assert.equal(resolveOptions({ namespace: "" }).namespace, "");
  rejects({ namespace: "a.b" }, "namespace");
});

Deno.test("resolveOptions() rejects negative or non-numeric timeouts and limits", () => {
  rejects({ requestTimeout: -1 }, "requestTimeout", /≥ 0/);
  rejects({ requestTimeout: "100" }, "requestTimeout");
  rejects({ requestTimeout: Number.NaN }, "requestTimeout");
  rejects({ maxCallLevel: -2 }, "maxCallLevel");
  rejects({ heartbeatInterval: 0 }, "heartbeatInterval");
  rejects({ heartbeatInterval: 10, heartbeatTimeout: 5 }, "heartbeatTimeout");
  rejects({ cleanOfflineNodesTimeout: -1 }, "cleanOfflineNodesTimeout");
  rejects({ registry: { stopDelay: -5 } }, "registry.stopDelay");
  rejects({ transit: { maxQueueSize: 0 } }, "transit.maxQueueSize");
  rejects({ transit: { discoverWaitTime: -1 } }, "transit.discoverWaitTime");
});

Deno.test("resolveOptions() rejects a bad protocolVersion", () => {
  rejects({ protocolVersion: "3" }, "protocolVersion", /"4".*"5"/);
  rejects({ protocolVersion: 5 }, "protocolVersion");
});

Deno.test("resolveOptions() rejects middlewares that are not an array", () => {
  rejects({ middlewares: {} }, "middlewares");
});

Deno.test("resolveOptions() rejects ill-typed values by name", () => {
  rejects({ validator: "fastest" }, "validator");
  rejects({ metadata: "x" }, "metadata");
  rejects({ internalServices: "no" }, "internalServices");
  rejects({ registry: { preferLocal: "yes" } }, "registry.preferLocal");
  rejects({ registry: "RoundRobin" }, "registry");
  rejects(
    { transit: { disableVersionCheck: 1 } },
    "transit.disableVersionCheck",
  );
});

Deno.test("resolveOptions() rejects options that are not an object", () => {
  assert.throws(() => resolveOptions(null as never), BrokerOptionsError);
  assert.throws(() => resolveOptions(5 as never), BrokerOptionsError);
});

Deno.test("new ServiceBroker() throws BrokerOptionsError for bad options", () => {
  assert.throws(
    () => new ServiceBroker({ logger: false, requestTimeout: -1 }),
    (err: unknown) => err instanceof BrokerOptionsError && /'requestTimeout'/.test(err.message),
  );
  assert.throws(
    () => new ServiceBroker({ logger: false, registry: { strategy: "Fastest" } }),
    BrokerOptionsError,
  );
  for (
    const [options, option] of [
      [{ logger: false, logLevel: "verbose" }, "logLevel"],
      [{ logger: false, logFormat: "XML" }, "logFormat"],
      [{ logger: "yes" }, "logger"],
    ] as const
  ) {
    assert.throws(
      () => new ServiceBroker(options as never),
      (err: unknown) =>
        err instanceof BrokerOptionsError &&
        err.message.includes(`'${option}'`),
    );
  }
});
