import { strict as assert } from "node:assert";
import { envOverlay, normaliseEnvValue } from "../../src/runner/env.ts";
import { resolveOptions } from "../../src/broker/options.ts";

const defaults = () => {
  const d = resolveOptions({ nodeID: "n" });
  return {
    ...d,
    registry: { ...d.registry },
    transit: { ...d.transit },
    metadata: {},
  } as Record<string, unknown>;
};
const roots = () => new Set(Object.keys(defaults()));
const asMap = (r: ReturnType<typeof envOverlay>) =>
  Object.fromEntries(
    r.assignments.map((a) => [a.path.join("."), [a.value, a.variable]]),
  );

Deno.test("normaliseEnvValue() turns true/false and numbers into values, unless the option is a string", () => {
  assert.equal(normaliseEnvValue("true"), true);
  assert.equal(normaliseEnvValue("FALSE"), false);
  assert.equal(normaliseEnvValue("5000"), 5000);
  assert.equal(normaliseEnvValue("1.5"), 1.5);
  assert.equal(normaliseEnvValue("nats://x"), "nats://x");
  assert.equal(normaliseEnvValue(" "), " ");
  assert.equal(normaliseEnvValue("42", "node-a"), "42");
  assert.equal(normaliseEnvValue("4", "5"), "4");
});

Deno.test("envOverlay() reads every known option in UPPER_SNAKE, `_` between levels", () => {
  const r = envOverlay(defaults(), {
    TRANSPORTER: "nats://127.0.0.1:4222",
    NAMESPACE: "dev",
    NODEID: "42",
    LOGLEVEL: "debug",
    LOGFORMAT: "JSON",
    REQUESTTIMEOUT: "5000",
    HEARTBEATINTERVAL: "5",
    PROTOCOLVERSION: "4",
    REGISTRY_PREFERLOCAL: "false",
    TRANSIT_MAXQUEUESIZE: "10",
    INTERNALSERVICES: "false",
    VALIDATOR: "false",
    CACHER: "MemoryLRU",
    EMPTY: "",
    UNRELATED: "x",
  }, roots());
  assert.deepEqual(asMap(r), {
    transporter: ["nats://127.0.0.1:4222", "TRANSPORTER"],
    namespace: ["dev", "NAMESPACE"],
    nodeID: ["42", "NODEID"],
    logLevel: ["debug", "LOGLEVEL"],
    logFormat: ["JSON", "LOGFORMAT"],
    requestTimeout: [5000, "REQUESTTIMEOUT"],
    heartbeatInterval: [5, "HEARTBEATINTERVAL"],
    protocolVersion: ["4", "PROTOCOLVERSION"],
    "registry.preferLocal": [false, "REGISTRY_PREFERLOCAL"],
    "transit.maxQueueSize": [10, "TRANSIT_MAXQUEUESIZE"],
    internalServices: [false, "INTERNALSERVICES"],
    validator: [false, "VALIDATOR"],
    cacher: ["MemoryLRU", "CACHER"],
  });
  assert.deepEqual(r.ignored, []);
});

Deno.test("envOverlay() maps MOL_ variables: __ nesting, _ camelCase, known keys case-insensitive", () => {
  const r = envOverlay(defaults(), {
    MOL_NODE_ID: "api-1",
    MOL_TRANSIT__MAX_QUEUE_SIZE: "100",
    MOL_REGISTRY__PREFER_LOCAL: "false",
    MOL_METADATA__REGION: "eu",
    MOL_METADATA__ZONE__RACK_ID: "7",
    MOL_TRACING__EXPORTER__TYPE: "Console",
    MOL_CONTEXT_PARAMS_CLONING: "true",
    MOL_NO_SUCH_OPTION: "1",
    MOL_: "x",
  }, roots());
  assert.deepEqual(asMap(r), {
    nodeID: ["api-1", "MOL_NODE_ID"],
    contextParamsCloning: [true, "MOL_CONTEXT_PARAMS_CLONING"],
    "metadata.region": ["eu", "MOL_METADATA__REGION"],
    "metadata.zone.rackId": [7, "MOL_METADATA__ZONE__RACK_ID"],
    "registry.preferLocal": [false, "MOL_REGISTRY__PREFER_LOCAL"],
    "tracing.exporter.type": ["Console", "MOL_TRACING__EXPORTER__TYPE"],
    "transit.maxQueueSize": [100, "MOL_TRANSIT__MAX_QUEUE_SIZE"],
  });
  assert.deepEqual(r.ignored, [
    "MOL_ (malformed name)",
    "MOL_NO_SUCH_OPTION (no broker option 'noSuchOption')",
  ]);
});

Deno.test("envOverlay() reads keys a config added, and MOL_ wins over UPPER_SNAKE", () => {
  const base = {
    ...defaults(),
    transporter: { type: "NATS", options: { url: "nats://a:4222" } },
  };
  const r = envOverlay(base, {
    TRANSPORTER_OPTIONS_URL: "nats://b:4222",
    NODEID: "upper",
    MOL_NODEID: "mol",
  }, roots());
  assert.deepEqual(r.assignments.map((a) => [a.path.join("."), a.value]), [
    ["nodeID", "upper"],
    ["transporter.options.url", "nats://b:4222"],
    ["nodeID", "mol"],
  ]);
  // A whole object may be replaced by one variable.
  const whole = envOverlay(base, { TRANSPORTER: "nats://c:4222" }, roots());
  assert.deepEqual(whole.assignments.map((a) => [a.path.join("."), a.value]), [
    ["transporter", "nats://c:4222"],
  ]);
});
