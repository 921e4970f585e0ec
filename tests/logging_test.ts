import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import {
  createLoggerFactory,
  formatJson,
  formatPlain,
  type LogEntry,
  type LoggerOptions,
} from "../src/logging.ts";
import { BrokerOptionsError, ValidationError } from "../src/errors.ts";
import { ServiceBroker } from "../mod.ts";

const PLAIN_LINE =
  /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] INFO {2}node-1\/BROKER: Broker started$/;

function capture(options: Omit<LoggerOptions, "nodeID" | "write"> = {}): {
  lines: string[];
  options: LoggerOptions;
} {
  const lines: string[] = [];
  return {
    lines,
    options: { nodeID: "node-1", ...options, write: (l) => lines.push(l) },
  };
}

Deno.test("createLoggerFactory() writes Moleculer's PLAIN layout by default", () => {
  const { lines, options } = capture();
  const factory = createLoggerFactory(options);
  assert.equal(factory.level, "info");
  factory.getLogger("broker").info("Broker started");
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, PLAIN_LINE);
});

Deno.test("formatPlain() pads the level, upper-cases the module and appends props as JSON", () => {
  const entry: LogEntry = {
    time: Date.UTC(2026, 10, 28, 1, 2, 3, 456),
    level: "warn",
    nodeID: "node-1",
    module: "v2.greeter",
    message: "Slow call",
    props: { ms: 1200, action: "greeter.hello" },
  };
  assert.equal(
    formatPlain(entry),
    '[2026-11-28T01:02:03.456Z] WARN  node-1/V2.GREETER: Slow call {"ms":1200,"action":"greeter.hello"}',
  );
  assert.equal(
    formatPlain({ ...entry, level: "error", props: {} }),
    "[2026-11-28T01:02:03.456Z] ERROR node-1/V2.GREETER: Slow call",
  );
});

Deno.test("formatJson() writes one JSON object with ts, level, nodeID, ns, mod, msg and props", () => {
  const line = formatJson({
    time: Date.UTC(2026, 10, 28, 1, 2, 3, 456),
    level: "info",
    nodeID: "node-1",
    namespace: "dev",
    module: "transit",
    message: "Connected",
    props: { url: "nats://x", level: "overwrite-attempt", big: 10n },
  });
  assert.ok(!line.includes("\n"));
  assert.deepEqual(JSON.parse(line), {
    ts: "2026-11-28T01:02:03.456Z",
    level: "info",
    nodeID: "node-1",
    ns: "dev",
    mod: "transit",
    msg: "Connected",
    url: "nats://x",
    big: "10",
  });
  assert.ok(line.startsWith('{"ts":'));
});

Deno.test("createLoggerFactory() with logFormat JSON writes JSON lines", () => {
  const { lines, options } = capture({ logFormat: "JSON", namespace: "prod" });
  createLoggerFactory(options).getLogger("registry").info("Node connected", {
    nodeID: "x",
  });
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.level, "info");
  assert.equal(rec.nodeID, "node-1"); // fixed fields win over props
  assert.equal(rec.ns, "prod");
  assert.equal(rec.mod, "registry");
  assert.equal(rec.msg, "Node connected");
  assert.equal(typeof rec.ts, "string");
});

Deno.test("Logger methods below logLevel are shared no-ops", () => {
  const { lines, options } = capture();
  const log = createLoggerFactory(options).getLogger("broker");
  log.trace("hidden");
  log.debug("hidden");
  log.info("shown");
  log.warn("shown");
  assert.equal(lines.length, 2);
  assert.equal(log.debug, log.trace); // the same pre-bound no-op
  assert.notEqual(log.info, log.debug);

  const dbg = capture({ logLevel: "debug" });
  const l2 = createLoggerFactory(dbg.options).getLogger("broker");
  l2.trace("hidden");
  l2.debug("shown");
  assert.equal(dbg.lines.length, 1);
  assert.match(dbg.lines[0]!, /\] DEBUG node-1\/BROKER: shown$/);
});

Deno.test("createLoggerFactory() caches loggers per module", () => {
  const factory = createLoggerFactory(capture().options);
  assert.equal(factory.getLogger("a"), factory.getLogger("a"));
  assert.notEqual(factory.getLogger("a"), factory.getLogger("b"));
});

Deno.test("createLoggerFactory() with logger:false is silent", () => {
  const { lines, options } = capture({ logger: false, logLevel: "trace" });
  const log = createLoggerFactory(options).getLogger("broker");
  log.trace("x");
  log.info("x");
  log.error("x", new Error("boom"));
  log.fatal("x");
  assert.equal(lines.length, 0);
});

Deno.test("createLoggerFactory() hands entries to a custom sink", () => {
  const seen: LogEntry[] = [];
  const factory = createLoggerFactory({
    nodeID: "n1",
    namespace: "ns1",
    logger: (e) => seen.push(e),
    logLevel: "debug",
  });
  const log = factory.getLogger("transit");
  const before = Date.now();
  log.trace("hidden");
  log.debug("Packet sent", { type: "REQ" });
  log.info("No props");
  assert.equal(seen.length, 2);
  const [first, second] = seen;
  assert.equal(first!.level, "debug");
  assert.equal(first!.nodeID, "n1");
  assert.equal(first!.namespace, "ns1");
  assert.equal(first!.module, "transit");
  assert.equal(first!.message, "Packet sent");
  assert.deepEqual(first!.props, { type: "REQ" });
  assert.ok(first!.time >= before && first!.time <= Date.now());
  assert.ok(!("props" in second!));
});

Deno.test("createLoggerFactory() survives a throwing custom sink", () => {
  const original = console.error;
  const reported: unknown[][] = [];
  console.error = (...args: unknown[]) => void reported.push(args);
  try {
    const log = createLoggerFactory({
      nodeID: "n1",
      logger: () => {
        throw new Error("sink down");
      },
    }).getLogger("broker");
    log.info("still fine");
  } finally {
    console.error = original;
  }
  assert.equal(reported.length, 1);
});

Deno.test("Logger.error() prints an Error's stack on the next lines in PLAIN", () => {
  const { lines, options } = capture();
  const log = createLoggerFactory(options).getLogger("broker");
  const err = new Error("boom");
  log.error("Action failed", err);
  const [first, ...rest] = lines[0]!.split("\n");
  assert.match(first!, /\] ERROR node-1\/BROKER: Action failed$/);
  assert.equal(rest[0], "Error: boom");
  assert.ok(rest.length > 1 && rest[1]!.trimStart().startsWith("at "));

  // Errors inside props too, with Moleculer fields and cause
  const ve = new ValidationError("Parameters validation error!", undefined, [{
    field: "a",
  }], {
    cause: new Error("root cause"),
  });
  log.warn("Rejected", { error: ve, action: "x.y" });
  const text = lines[1]!;
  assert.match(
    text.split("\n")[0]!,
    /WARN {2}node-1\/BROKER: Rejected \{"action":"x.y"\}$/,
  );
  assert.ok(text.includes("\nValidationError: Parameters validation error!"));
  assert.ok(text.includes('"type":"VALIDATION_ERROR"'));
  assert.ok(text.includes("\nCaused by: Error: root cause"));
});

Deno.test("Logger.error() accepts a thrown non-Error value", () => {
  const { lines, options } = capture();
  createLoggerFactory(options).getLogger("broker").error(
    "Failed",
    "just a string",
  );
  assert.match(
    lines[0]!,
    /ERROR node-1\/BROKER: Failed \{"error":"just a string"\}$/,
  );
});

Deno.test("Logger.error() in JSON keeps the error's message and stack", () => {
  const { lines, options } = capture({ logFormat: "JSON" });
  createLoggerFactory(options).getLogger("broker").error(
    "Failed",
    new TypeError("bad"),
  );
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.error.name, "TypeError");
  assert.equal(rec.error.message, "bad");
  assert.match(rec.error.stack, /^TypeError: bad\n/);
});

Deno.test("formatJson() and formatPlain() cut circular references", () => {
  const a: Record<string, unknown> = { name: "a" };
  a.self = a;
  const entry: LogEntry = {
    time: 0,
    level: "info",
    nodeID: "n",
    module: "m",
    message: "loop",
    props: { a },
  };
  assert.equal(JSON.parse(formatJson(entry)).a.self, "[Circular]");
  assert.ok(
    formatPlain(entry).endsWith('{"a":{"name":"a","self":"[Circular]"}}'),
  );
});

Deno.test("createLoggerFactory() rejects unknown option values", () => {
  assert.throws(
    () => createLoggerFactory({ nodeID: "n", logLevel: "loud" as "info" }),
    BrokerOptionsError,
  );
  assert.throws(
    () => createLoggerFactory({ nodeID: "n", logFormat: "XML" as "JSON" }),
    BrokerOptionsError,
  );
  assert.throws(
    () => createLoggerFactory({ nodeID: "n", logger: "loud-logger" as "logtape" }),
    BrokerOptionsError,
  );
  // case-insensitive values from config files / env are accepted
  assert.equal(
    createLoggerFactory({ nodeID: "n", logLevel: "DEBUG" as "debug" }).level,
    "debug",
  );
});

Deno.test("createLoggerFactory() with logger:'logtape' routes records to the app's logtape", async () => {
  const records: LogRecord[] = [];
  // The application's role: configure logtape. The broker never does this itself.
  await configure({
    reset: true,
    sinks: { mem: (r: LogRecord) => void records.push(r) },
    loggers: [
      { category: ["denolecular"], sinks: ["mem"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    const factory = createLoggerFactory({
      nodeID: "node-1",
      logger: "logtape",
    });
    assert.equal(factory.level, "trace"); // no floor: logtape's config decides
    const log = factory.getLogger("broker");
    log.trace("dropped by the app's lowestLevel");
    log.debug("Literal {braces} stay {{as}} they are", {
      braces: "NOT-SUBSTITUTED",
    });
    log.warn("Careful");
    const err = new Error("boom");
    log.error("Failed", err);

    assert.equal(records.length, 3);
    const [dbg, warn, error] = records;
    assert.deepEqual(dbg!.category, ["denolecular", "node-1", "broker"]);
    assert.equal(dbg!.level, "debug");
    assert.equal(
      dbg!.message.join(""),
      "Literal {braces} stay {{as}} they are",
    );
    assert.equal(dbg!.properties.braces, "NOT-SUBSTITUTED");
    assert.equal(warn!.level, "warning");
    assert.equal(error!.level, "error");
    assert.equal(error!.properties.error, err);

    // an explicit logLevel still acts as a floor
    const floored = createLoggerFactory({
      nodeID: "node-1",
      logger: "logtape",
      logLevel: "warn",
    });
    floored.getLogger("broker").info("below the floor");
    assert.equal(records.length, 3);
  } finally {
    await reset();
  }
});

Deno.test("the built-in sink does not configure logtape globally", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { mem: (r: LogRecord) => void records.push(r) },
    loggers: [
      { category: [], sinks: ["mem"], lowestLevel: "trace" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    const { lines, options } = capture();
    createLoggerFactory(options).getLogger("broker").info("Broker started");
    assert.equal(lines.length, 1);
    assert.equal(records.length, 0);
  } finally {
    await reset();
  }
});

Deno.test("Logger keeps every argument of Moleculer's call shape", () => {
  const entries: LogEntry[] = [];
  const lines: string[] = [];
  const log = createLoggerFactory({ nodeID: "n1", logger: (e) => entries.push(e) }).getLogger(
    "users",
  );
  const err = new Error("disk full");
  log.info("User", { id: 5 }, "created", 42);
  log.error("Save failed", { id: 5 }, err);
  assert.equal(entries[0]!.message, 'User {"id":5} created 42');
  assert.deepEqual(entries[0]!.args, ["User", { id: 5 }, "created", 42]);
  assert.equal(entries[1]!.message, 'Save failed {"id":5}');
  assert.equal(entries[1]!.props?.error, err, "an Error stays an Error, with its stack");
  const plain = createLoggerFactory({ nodeID: "n1", write: (l) => lines.push(l) }).getLogger(
    "users",
  );
  plain.info("User", { id: 5 }, "created", 42);
  assert.match(lines[0]!, / INFO {2}n1\/USERS: User \{"id":5\} created 42$/);
});

Deno.test("logLevel per module: exact name, then wildcards, then '**'; false silences", () => {
  const entries: LogEntry[] = [];
  const factory = createLoggerFactory({
    nodeID: "n1",
    logger: (e) => entries.push(e),
    logLevel: {
      "MY-SVC": "debug",
      "TRANS*": "warn",
      "V2.**": "trace",
      "NOISY": false,
      "**": "info",
    },
  });
  for (const mod of ["my-svc", "TRANSIT", "v2.greeter", "noisy", "BROKER"]) {
    const log = factory.getLogger(mod);
    log.trace("t");
    log.debug("d");
    log.info("i");
    log.warn("w");
  }
  const seen = (mod: string) => entries.filter((e) => e.module === mod).map((e) => e.message);
  assert.deepEqual(seen("my-svc"), ["d", "i", "w"]);
  assert.deepEqual(seen("TRANSIT"), ["w"]);
  assert.deepEqual(seen("v2.greeter"), ["t", "d", "i", "w"]);
  assert.deepEqual(seen("noisy"), []);
  assert.deepEqual(seen("BROKER"), ["i", "w"]);
  assert.equal(factory.level, "trace");
  assert.throws(
    () => createLoggerFactory({ nodeID: "n", logLevel: { "**": "loud" as "info" } }),
    /logLevel\.\*\*/,
  );
});

Deno.test("Moleculer's logger types without a Deno build log to the console, with one warning", () => {
  const lines: string[] = [];
  const factory = createLoggerFactory({
    nodeID: "n1",
    logger: { type: "Pino", options: { level: "info" } },
    write: (l) => lines.push(l),
  });
  factory.getLogger("broker").info("hello");
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /logger type 'Pino' needs a Node library/);
  assert.match(lines[1]!, /INFO {2}n1\/BROKER: hello$/);
  assert.throws(
    () => createLoggerFactory({ nodeID: "n", logger: { type: "Nope" } }),
    BrokerOptionsError,
  );
});

Deno.test("ServiceBroker takes Moleculer's logger and logLevel options", async () => {
  const broker = new ServiceBroker({
    logger: { type: "Console", options: { formatter: "short", level: "fatal" } },
    logLevel: { "**": "fatal" },
  });
  await broker.start();
  await broker.stop();
  assert.equal(broker.options.logLevel && typeof broker.options.logLevel, "object");
});
