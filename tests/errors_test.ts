import assert from "node:assert/strict";
import {
  BrokerDisconnectedError,
  BrokerOptionsError,
  Errors,
  fromPlain,
  GracefulStopTimeoutError,
  InvalidPacketDataError,
  isRetryableError,
  MaxCallLevelError,
  MoleculerClientError,
  MoleculerError,
  MoleculerRetryableError,
  MoleculerServerError,
  type PlainError,
  ProtocolVersionMismatchError,
  QueueIsFullError,
  RequestRejectedError,
  RequestSkippedError,
  RequestTimeoutError,
  ServiceNotAvailableError,
  ServiceNotFoundError,
  ServiceSchemaError,
  toPlain,
  ValidationError,
} from "../src/errors.ts";

/** One sample per class, with what every check expects of it. */
interface Case {
  error: MoleculerError;
  ctor: abstract new (...args: never[]) => MoleculerError;
  chain: ReadonlyArray<abstract new (...args: never[]) => Error>;
  name: string;
  message: string;
  code: number;
  type: string;
  retryable: boolean;
  data: unknown;
}

const req = { action: "posts.find", nodeID: "node-2" };

function cases(): Case[] {
  return [
    {
      error: new MoleculerError("boom", 501, "ERR_X", { a: 1 }),
      ctor: MoleculerError,
      chain: [Error],
      name: "MoleculerError",
      message: "boom",
      code: 501,
      type: "ERR_X",
      retryable: false,
      data: { a: 1 },
    },
    {
      error: new MoleculerRetryableError("again", 503, "BUSY", [1, 2]),
      ctor: MoleculerRetryableError,
      chain: [MoleculerError, Error],
      name: "MoleculerRetryableError",
      message: "again",
      code: 503,
      type: "BUSY",
      retryable: true,
      data: [1, 2],
    },
    {
      error: new MoleculerServerError("server", 500, "SRV", "d"),
      ctor: MoleculerServerError,
      chain: [MoleculerRetryableError, MoleculerError, Error],
      name: "MoleculerServerError",
      message: "server",
      code: 500,
      type: "SRV",
      retryable: true,
      data: "d",
    },
    {
      error: new MoleculerClientError("bad thing", 418, "TEAPOT", { x: 1 }),
      ctor: MoleculerClientError,
      chain: [MoleculerError, Error],
      name: "MoleculerClientError",
      message: "bad thing",
      code: 418,
      type: "TEAPOT",
      retryable: false,
      data: { x: 1 },
    },
    {
      error: new ServiceNotFoundError({
        action: "posts.find",
        nodeID: "node-2",
      }),
      ctor: ServiceNotFoundError,
      chain: [MoleculerRetryableError, MoleculerError, Error],
      name: "ServiceNotFoundError",
      message: "Service 'posts.find' is not found on 'node-2' node.",
      code: 404,
      type: "SERVICE_NOT_FOUND",
      retryable: true,
      data: { action: "posts.find", nodeID: "node-2" },
    },
    {
      error: new ServiceNotAvailableError({
        action: "posts.find",
        nodeID: "node-2",
      }),
      ctor: ServiceNotAvailableError,
      chain: [MoleculerRetryableError, MoleculerError, Error],
      name: "ServiceNotAvailableError",
      message: "Service 'posts.find' is not available on 'node-2' node.",
      code: 404,
      type: "SERVICE_NOT_AVAILABLE",
      retryable: true,
      data: req,
    },
    {
      error: new RequestTimeoutError(req),
      ctor: RequestTimeoutError,
      chain: [MoleculerRetryableError, MoleculerError, Error],
      name: "RequestTimeoutError",
      message: "Request is timed out when call 'posts.find' action on 'node-2' node.",
      code: 504,
      type: "REQUEST_TIMEOUT",
      retryable: true,
      data: req,
    },
    {
      error: new RequestSkippedError(req),
      ctor: RequestSkippedError,
      chain: [MoleculerError, Error],
      name: "RequestSkippedError",
      message: "Calling 'posts.find' is skipped because timeout reached on 'node-2' node.",
      code: 514,
      type: "REQUEST_SKIPPED",
      retryable: false,
      data: req,
    },
    {
      error: new RequestRejectedError(req),
      ctor: RequestRejectedError,
      chain: [MoleculerRetryableError, MoleculerError, Error],
      name: "RequestRejectedError",
      message: "Request is rejected when call 'posts.find' action on 'node-2' node.",
      code: 503,
      type: "REQUEST_REJECTED",
      retryable: true,
      data: req,
    },
    {
      error: new QueueIsFullError({ ...req, size: 120, limit: 100 }),
      ctor: QueueIsFullError,
      chain: [MoleculerRetryableError, MoleculerError, Error],
      name: "QueueIsFullError",
      message: "Queue is full. Request 'posts.find' action on 'node-2' node is rejected.",
      code: 429,
      type: "QUEUE_FULL",
      retryable: true,
      data: { ...req, size: 120, limit: 100 },
    },
    {
      error: new ValidationError("Parameters validation error!", undefined, [
        {
          type: "string",
          field: "name",
          message: "The 'name' field must be a string.",
          actual: 5,
        },
      ]),
      ctor: ValidationError,
      chain: [MoleculerClientError, MoleculerError, Error],
      name: "ValidationError",
      message: "Parameters validation error!",
      code: 422,
      type: "VALIDATION_ERROR",
      retryable: false,
      data: [
        {
          type: "string",
          field: "name",
          message: "The 'name' field must be a string.",
          actual: 5,
        },
      ],
    },
    {
      error: new MaxCallLevelError({ nodeID: "node-1", level: 10 }),
      ctor: MaxCallLevelError,
      chain: [MoleculerError, Error],
      name: "MaxCallLevelError",
      message: "Request level is reached the limit (10) on 'node-1' node.",
      code: 500,
      type: "MAX_CALL_LEVEL",
      retryable: false,
      data: { nodeID: "node-1", level: 10 },
    },
    {
      error: new ServiceSchemaError("Service name can't be empty!", {
        schema: "x",
      }),
      ctor: ServiceSchemaError,
      chain: [MoleculerError, Error],
      name: "ServiceSchemaError",
      message: "Service name can't be empty!",
      code: 500,
      type: "SERVICE_SCHEMA_ERROR",
      retryable: false,
      data: { schema: "x" },
    },
    {
      error: new BrokerOptionsError("Invalid transporter", {
        transporter: "Foo",
      }),
      ctor: BrokerOptionsError,
      chain: [MoleculerError, Error],
      name: "BrokerOptionsError",
      message: "Invalid transporter",
      code: 500,
      type: "BROKER_OPTIONS_ERROR",
      retryable: false,
      data: { transporter: "Foo" },
    },
    {
      error: new GracefulStopTimeoutError({
        service: { name: "posts", version: 2 },
      }),
      ctor: GracefulStopTimeoutError,
      chain: [MoleculerError, Error],
      name: "GracefulStopTimeoutError",
      message: "Unable to stop 'posts' service gracefully.",
      code: 500,
      type: "GRACEFUL_STOP_TIMEOUT",
      retryable: false,
      data: { name: "posts", version: 2 },
    },
    {
      error: new ProtocolVersionMismatchError({
        nodeID: "node-3",
        actual: "5",
        received: "4",
      }),
      ctor: ProtocolVersionMismatchError,
      chain: [MoleculerError, Error],
      name: "ProtocolVersionMismatchError",
      message: "Protocol version mismatch.",
      code: 500,
      type: "PROTOCOL_VERSION_MISMATCH",
      retryable: false,
      data: { nodeID: "node-3", actual: "5", received: "4" },
    },
    {
      error: new InvalidPacketDataError({ type: "REQ", packet: { id: 1 } }),
      ctor: InvalidPacketDataError,
      chain: [MoleculerError, Error],
      name: "InvalidPacketDataError",
      message: "Invalid packet data.",
      code: 500,
      type: "INVALID_PACKET_DATA",
      retryable: false,
      data: { type: "REQ", packet: { id: 1 } },
    },
    {
      error: new BrokerDisconnectedError(),
      ctor: BrokerDisconnectedError,
      chain: [MoleculerRetryableError, MoleculerError, Error],
      name: "BrokerDisconnectedError",
      message:
        "The broker's transporter has disconnected. Please try again when a connection is reestablished.",
      code: 502,
      type: "BAD_GATEWAY",
      retryable: true,
      data: undefined,
    },
  ];
}

/** Sends a plain error through JSON, as a JSON serializer would. */
function viaJson(plain: PlainError): unknown {
  return JSON.parse(JSON.stringify(plain));
}

Deno.test("error classes have Moleculer's name, code, type, retryable, data and chain", () => {
  for (const c of cases()) {
    const e = c.error;
    assert.equal(e.name, c.name);
    assert.equal(e.message, c.message, c.name);
    assert.equal(e.code, c.code, c.name);
    assert.equal(e.type, c.type, c.name);
    assert.equal(e.retryable, c.retryable, c.name);
    assert.deepEqual(e.data, c.data, c.name);
    assert.equal(e.nodeID, undefined, c.name);
    assert.ok(e instanceof c.ctor, c.name);
    for (const parent of c.chain) {
      assert.ok(e instanceof parent, `${c.name} < ${parent.name}`);
    }
    assert.equal(String(e), `${c.name}: ${c.message}`);
    assert.equal(isRetryableError(e), c.retryable, c.name);
  }
});

Deno.test("error classes: every class is in Errors and has a case", () => {
  const names = cases().map((c) => c.name).sort();
  assert.deepEqual(Object.keys(Errors).sort(), names);
  for (const c of cases()) {
    assert.equal(Errors[c.name as keyof typeof Errors], c.ctor);
  }
  assert.ok(Object.isFrozen(Errors));
});

Deno.test("MoleculerError defaults: code 500, type '', not retryable, cause kept", () => {
  const cause = new Error("root");
  const e = new MoleculerError("x", undefined, undefined, undefined, { cause });
  assert.equal(e.code, 500);
  assert.equal(e.type, "");
  assert.equal(e.data, undefined);
  assert.equal(e.retryable, false);
  assert.equal(e.cause, cause);
  assert.equal(
    new MoleculerError("x", 0).code,
    500,
    "falsy code falls back like Moleculer",
  );
  assert.equal(new MoleculerRetryableError("x").code, 500);
  assert.equal(new MoleculerClientError("x").code, 400);
  assert.equal(new MoleculerClientError("x").type, "");
  assert.equal(new ValidationError("x", "CUSTOM").type, "CUSTOM");
  assert.equal(new ValidationError("x", "").type, "VALIDATION_ERROR");
  assert.equal(new ValidationError("x").code, 422);
});

Deno.test("error classes: name is not enumerable and stack starts with the class name", () => {
  const e = new RequestTimeoutError(req);
  assert.ok(!Object.keys(e).includes("name"));
  assert.ok(e.stack?.startsWith("RequestTimeoutError: Request is timed out"));
  assert.equal(
    new BrokerDisconnectedError().stack,
    "",
    "stack hidden like Moleculer",
  );
  assert.equal(
    new BrokerDisconnectedError("Broker is disconnected!").message,
    "Broker is disconnected!",
  );
});

Deno.test("ServiceNotFoundError builds Moleculer's messages from data", () => {
  const msg = (data?: ConstructorParameters<typeof ServiceNotFoundError>[0]) =>
    new ServiceNotFoundError(data).message;
  assert.equal(
    msg({ action: "posts.find" }),
    "Service 'posts.find' is not found.",
  );
  assert.equal(
    msg({ action: "posts.find", nodeID: "node-2" }),
    "Service 'posts.find' is not found on 'node-2' node.",
  );
  assert.equal(
    msg({ service: "posts", version: "v2" }),
    "Service 'v2.posts' not found.",
  );
  assert.equal(
    msg({ service: "posts", version: 2 }),
    "Service '2.posts' not found.",
  );
  assert.equal(msg({ service: "posts" }), "Service 'posts' not found.");
  assert.equal(msg({ nodeID: "node-2" }), "");
  assert.equal(msg(), "");
  assert.deepEqual(new ServiceNotFoundError().data, {});
});

Deno.test("ServiceNotAvailableError and GracefulStopTimeoutError messages", () => {
  assert.equal(
    new ServiceNotAvailableError({ action: "a.b" }).message,
    "Service 'a.b' is not available.",
  );
  const broker = new GracefulStopTimeoutError();
  assert.equal(broker.message, "Unable to stop ServiceBroker gracefully.");
  assert.equal(broker.data, undefined);
  assert.deepEqual(
    new GracefulStopTimeoutError({ service: { name: "s" } }).data,
    { name: "s" },
  );
});

Deno.test("constructors never throw on hostile data values", () => {
  const hostile = { toString: 1, valueOf: 1 } as unknown as string;
  assert.match(
    new RequestTimeoutError({ action: hostile, nodeID: "n" }).message,
    /^Request is/,
  );
  assert.match(
    new ServiceNotFoundError({ action: hostile }).message,
    /^Service '/,
  );
});

Deno.test("toPlain() extracts Moleculer's plain error", () => {
  const e = new MoleculerClientError("bad thing", 418, "TEAPOT", { x: 1 });
  const plain = toPlain(e, "node-b");
  assert.deepEqual(plain, {
    name: "MoleculerClientError",
    message: "bad thing",
    nodeID: "node-b",
    code: 418,
    type: "TEAPOT",
    retryable: false,
    stack: e.stack,
    data: { x: 1 },
  });

  e.nodeID = "node-z";
  assert.equal(
    toPlain(e, "node-b").nodeID,
    "node-z",
    "the error's own nodeID wins",
  );
});

Deno.test("toPlain() leaves out undefined keys and handles non-Moleculer values", () => {
  const plain = toPlain(new TypeError("nope"), "n1");
  assert.equal(plain.name, "TypeError");
  assert.equal(plain.message, "nope");
  assert.equal(plain.nodeID, "n1");
  assert.equal(typeof plain.stack, "string");
  for (const key of ["code", "type", "retryable", "data"]) {
    assert.ok(!(key in plain), key);
  }

  assert.deepEqual(toPlain("just a string", "n1"), {
    name: "MoleculerError",
    message: "just a string",
    nodeID: "n1",
    code: 500,
    type: "",
    retryable: false,
  });
  assert.equal(toPlain(42, "n1").message, "42");
  assert.equal(toPlain(undefined, "n1").message, "Unknown error");
  assert.equal(toPlain(null, "n1").message, "Unknown error");
  assert.equal(toPlain({ message: "obj" }, "n1").message, "obj");
  assert.equal(toPlain(Object.create(null), "n1").name, "MoleculerError");
});

Deno.test("fromPlain() rebuilds every built-in class after a JSON round trip", () => {
  for (const c of cases()) {
    const back = fromPlain(viaJson(toPlain(c.error, "node-a")), "node-x");
    assert.ok(back instanceof c.ctor, c.name);
    assert.ok(back instanceof MoleculerError);
    assert.equal(back.name, c.name);
    assert.equal(back.message, c.message, c.name);
    assert.equal(back.code, c.code, c.name);
    assert.equal(back.type, c.type, c.name);
    assert.equal(back.retryable, c.retryable, c.name);
    assert.deepEqual(
      back.data,
      JSON.parse(JSON.stringify(c.data ?? null)) ?? undefined,
      c.name,
    );
    assert.equal(back.nodeID, "node-a", c.name);
    if (c.error.stack) assert.equal(back.stack, c.error.stack, c.name);
  }
});

Deno.test("fromPlain() regenerates data-only messages and fixes code/type from the class", () => {
  const back = fromPlain({
    name: "ServiceNotFoundError",
    message: "whatever the sender said",
    code: 999,
    type: "OTHER",
    data: { service: "posts", version: "v2" },
  }, "node-x");
  assert.ok(back instanceof ServiceNotFoundError);
  assert.equal(back.message, "Service 'v2.posts' not found.");
  assert.equal(back.code, 404);
  assert.equal(back.type, "SERVICE_NOT_FOUND");

  const noData = fromPlain(
    { name: "ServiceNotFoundError", message: "" },
    "node-x",
  );
  assert.ok(noData instanceof ServiceNotFoundError);
  assert.deepEqual(noData.data, {});

  const validation = fromPlain({
    name: "ValidationError",
    message: "v",
    type: "MY_TYPE",
  }, "n");
  assert.ok(validation instanceof ValidationError);
  assert.equal(validation.type, "MY_TYPE");
  assert.equal(validation.code, 422);

  const stop = fromPlain(
    { name: "GracefulStopTimeoutError", message: "?" },
    "n",
  );
  assert.ok(stop instanceof GracefulStopTimeoutError);
  assert.equal(stop.message, "Unable to stop ServiceBroker gracefully.");
});

Deno.test("fromPlain() accepts a captured Moleculer (Node.js) RES error", () => {
  const wire = JSON.parse(
    '{"name":"MoleculerClientError","message":"bad thing","nodeID":"node-b","code":418,' +
      '"type":"TEAPOT","retryable":false,"stack":"MoleculerClientError: bad thing\\n    at x",' +
      '"data":{"x":1}}',
  );
  const back = fromPlain(wire, "node-c");
  assert.ok(back instanceof MoleculerClientError);
  assert.equal(back.code, 418);
  assert.equal(back.type, "TEAPOT");
  assert.equal(back.nodeID, "node-b");
  assert.equal(back.stack, "MoleculerClientError: bad thing\n    at x");
  assert.deepEqual(back.data, { x: 1 });
});

Deno.test("fromPlain() keeps an unknown name as a MoleculerError", () => {
  const back = fromPlain({
    name: "MyCustomError",
    message: "custom",
    code: 451,
    type: "LEGAL",
    data: { why: "law" },
    retryable: true,
    stack: "MyCustomError: custom\n    at remote",
  }, "node-r");
  assert.ok(back instanceof MoleculerError);
  assert.equal(back.constructor, MoleculerError);
  assert.equal(back.name, "MyCustomError");
  assert.equal(back.message, "custom");
  assert.equal(back.code, 451);
  assert.equal(back.type, "LEGAL");
  assert.deepEqual(back.data, { why: "law" });
  assert.equal(back.retryable, true);
  assert.equal(back.nodeID, "node-r");
  assert.equal(back.stack, "MyCustomError: custom\n    at remote");

  const plainError = fromPlain({ name: "TypeError", message: "t" }, "n");
  assert.ok(plainError instanceof MoleculerError);
  assert.equal(plainError.name, "TypeError");
  assert.equal(plainError.code, 500);
  assert.equal(plainError.type, "");
});

Deno.test("fromPlain() takes retryable and nodeID from the payload", () => {
  const notRetryable = fromPlain(
    viaJson({
      ...toPlain(new RequestTimeoutError(req), "a"),
      retryable: false,
    }),
    "b",
  );
  assert.ok(notRetryable instanceof RequestTimeoutError);
  assert.equal(notRetryable.retryable, false);
  assert.equal(isRetryableError(notRetryable), false);

  const retryable = fromPlain({
    name: "MoleculerClientError",
    message: "m",
    retryable: true,
  }, "b");
  assert.equal(isRetryableError(retryable), true);

  const keepsDefault = fromPlain(
    { name: "QueueIsFullError", retryable: "yes" },
    "b",
  );
  assert.equal(
    (keepsDefault as MoleculerError).retryable,
    true,
    "non-boolean is ignored",
  );

  const fromSender = fromPlain(
    { name: "MoleculerError", message: "m" },
    "sender-1",
  );
  assert.equal((fromSender as MoleculerError).nodeID, "sender-1");
  const emptyNode = fromPlain({
    name: "MoleculerError",
    message: "m",
    nodeID: "",
  }, "sender-1");
  assert.equal((emptyNode as MoleculerError).nodeID, "sender-1");
  const badNode = fromPlain(
    { name: "MoleculerError", message: "m", nodeID: 7 },
    "sender-1",
  );
  assert.equal((badNode as MoleculerError).nodeID, "sender-1");
});

Deno.test("fromPlain() never throws on garbage", () => {
  const garbage: unknown[] = [
    null,
    undefined,
    42,
    "boom",
    true,
    [],
    [1, 2],
    () => {},
    Symbol("s"),
    10n,
  ];
  for (const g of garbage) {
    const e = fromPlain(g, "sender");
    assert.ok(e instanceof MoleculerError, String(typeof g));
    assert.equal(e.message, "Unknown remote error");
    assert.equal(e.code, 500);
    assert.equal(e.type, "UNKNOWN_ERROR");
    assert.equal(e.nodeID, "sender");
    assert.equal(e.retryable, false);
  }

  const nameless = fromPlain({}, "sender");
  assert.ok(nameless instanceof MoleculerError);
  assert.equal(nameless.name, "MoleculerError");
  assert.equal(nameless.message, "Unknown remote error");
  assert.equal(nameless.type, "UNKNOWN_ERROR");

  const weird = fromPlain({
    name: 5,
    message: { toString: 1 },
    code: "500",
    type: [],
    stack: 3,
    retryable: null,
  }, "s");
  assert.ok(weird instanceof MoleculerError);
  assert.equal(weird.code, 500);

  // Data-only classes with missing or odd data still build a message.
  for (const name of Object.keys(Errors)) {
    for (
      const data of [undefined, null, "x", 5, [], {
        action: { toString: 1, valueOf: 1 },
      }]
    ) {
      const e = fromPlain({ name, message: "m", data }, "s");
      assert.ok(e instanceof Errors[name as keyof typeof Errors], name);
      assert.equal(typeof e.message, "string");
    }
  }
});

Deno.test("fromPlain() ignores inherited fields and prototype-like names", () => {
  const inherited = Object.create({
    name: "RequestTimeoutError",
    retryable: true,
    code: 504,
  });
  inherited.message = "m";
  const e = fromPlain(inherited, "s");
  assert.equal(e.name, "MoleculerError");
  assert.equal((e as MoleculerError).code, 500);

  for (
    const name of [
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
      "prototype",
    ]
  ) {
    const back = fromPlain({ name, message: "m" }, "s");
    assert.ok(back instanceof MoleculerError, name);
    assert.equal(back.name, name);
    assert.equal(Object.getPrototypeOf(back), MoleculerError.prototype, name);
  }
});

Deno.test("fromPlain() with __proto__ in the payload pollutes nothing", () => {
  const wire = '{"name":"MoleculerError","message":"m","__proto__":{"polluted":true,' +
    '"retryable":true},"data":{"__proto__":{"polluted":true},"constructor":' +
    '{"prototype":{"polluted":true}},"ok":1}}';
  const plain = JSON.parse(wire);
  const e = fromPlain(plain, "s") as MoleculerError;

  const probe: Record<string, unknown> = {};
  assert.equal(probe["polluted"], undefined);
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  assert.equal(
    (Object.prototype as Record<string, unknown>)["polluted"],
    undefined,
  );
  assert.equal(Object.getPrototypeOf(e), MoleculerError.prototype);
  assert.equal(
    (e as unknown as Record<string, unknown>)["polluted"],
    undefined,
  );
  assert.equal(
    e.retryable,
    false,
    "a top-level __proto__ key does not set fields",
  );

  // Data is kept as sent (own __proto__ key included), never merged into anything.
  assert.equal(e.data, plain.data);
  const data = e.data as Record<string, unknown>;
  assert.ok(Object.hasOwn(data, "__proto__"));
  assert.equal(Object.getPrototypeOf(data), Object.prototype);
  assert.equal(data["ok"], 1);

  // Same for data-only classes, which read selected fields from data.
  const timeout = fromPlain(
    JSON.parse(
      '{"name":"RequestTimeoutError","data":{"__proto__":{"action":"evil"},"nodeID":"n"}}',
    ),
    "s",
  );
  assert.ok(timeout instanceof RequestTimeoutError);
  assert.equal(
    timeout.message,
    "Request is timed out when call 'undefined' action on 'n' node.",
  );
  assert.equal(({} as Record<string, unknown>)["action"], undefined);
});

Deno.test("isRetryableError() is true only for retryable === true", () => {
  assert.equal(isRetryableError(new MoleculerServerError("x")), true);
  assert.equal(isRetryableError(new MoleculerError("x")), false);
  assert.equal(isRetryableError({ retryable: true }), true);
  assert.equal(isRetryableError({ retryable: "true" }), false);
  assert.equal(isRetryableError(new Error("x")), false);
  assert.equal(isRetryableError(null), false);
  assert.equal(isRetryableError(undefined), false);
  assert.equal(isRetryableError("retryable"), false);
});
