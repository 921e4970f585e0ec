// A real Moleculer node for Denolecular's interop tests, driven by tests/_helpers/moleculer_peer.ts.
//
// Options: JSON in argv[2] or in the MOLECULER_PEER_OPTIONS environment variable:
//   { version: "0.14"|"0.15", nodeID, transporter, namespace?, heartbeatInterval?, heartbeatTimeout?,
//     disableBalancer?, services?: string[], logLevel?, brokerOptions? }
// `services` defaults to the presets; opt-in services (`binary`) load only when named.
//
// stdout is reserved for the control protocol (one JSON object per line); logs go to stderr.
// stdin: one command per line, `{id, cmd, ...}`; each gets `{type:"reply", id, ok, result|error}`.
// Unsolicited lines: `{type:"ready", nodeID}`, `{type:"event", ...}`, `{type:"local-event", ...}`.
// When stdin closes (the parent went away) the broker stops and the process exits.

import { createRequire } from "node:module";
import process from "node:process";
import readline from "node:readline";

// Everything Moleculer (or anything else) prints through console goes to stderr.
for (const m of ["log", "info", "debug", "trace"]) {
  console[m] = (...args) => console.error(...args);
}

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

process.on("unhandledRejection", (err) => {
  process.stderr.write(`[peer] unhandled rejection: ${err?.stack ?? err}\n`);
});
process.on("uncaughtException", (err) => {
  process.stderr.write(`[peer] uncaught exception: ${err?.stack ?? err}\n`);
  process.exit(70);
});

const rawOptions = process.argv[2] ?? process.env.MOLECULER_PEER_OPTIONS;
if (!rawOptions) {
  process.stderr.write(
    "[peer] missing options (argv[2] or MOLECULER_PEER_OPTIONS)\n",
  );
  process.exit(64);
}
const options = JSON.parse(rawOptions);
const pkg = { "0.14": "moleculer-014", "0.15": "moleculer-015" }[options.version];
if (!pkg) {
  process.stderr.write(
    `[peer] unknown version ${JSON.stringify(options.version)}\n`,
  );
  process.exit(64);
}

const require = createRequire(import.meta.url);
const Moleculer = require(pkg);
const { ServiceBroker, Errors } = Moleculer;
const { MoleculerClientError } = Errors;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function describeCtx(ctx) {
  return {
    level: ctx.level,
    requestID: ctx.requestID,
    parentID: ctx.parentID,
    caller: ctx.caller ?? null,
  };
}

const presets = {
  nodemath: {
    name: "nodemath",
    actions: {
      add: {
        params: { a: "number", b: "number" },
        handler(ctx) {
          return ctx.params.a + ctx.params.b;
        },
      },
      echo(ctx) {
        const result = {
          params: ctx.params,
          meta: { ...ctx.meta },
          ...describeCtx(ctx),
          nodeID: ctx.nodeID,
          id: ctx.id,
        };
        ctx.meta.fromNode = true;
        return result;
      },
      fail() {
        throw new MoleculerClientError("bad thing", 418, "TEAPOT", { x: 1 });
      },
      slow: {
        params: { ms: "number" },
        async handler(ctx) {
          await sleep(ctx.params.ms);
          return { waited: ctx.params.ms };
        },
      },
      relay: {
        params: { action: "string", params: "any|optional" },
        handler(ctx) {
          return ctx.call(ctx.params.action, ctx.params.params ?? {});
        },
      },
      relayEmit: {
        params: { event: "string" },
        async handler(ctx) {
          await ctx.emit(ctx.params.event, ctx.params.data, ctx.params.opts);
          return true;
        },
      },
      relayBroadcast: {
        params: { event: "string" },
        async handler(ctx) {
          await ctx.broadcast(
            ctx.params.event,
            ctx.params.data,
            ctx.params.opts,
          );
          return true;
        },
      },
    },
  },

  greeter: {
    name: "greeter",
    version: 2,
    actions: {
      hello: {
        params: { name: "string" },
        handler(ctx) {
          return `Hello, ${ctx.params.name}! (from node)`;
        },
      },
    },
  },

  listener: {
    name: "nodelistener",
    events: {
      "user.created": {
        group: "grp-node",
        context: true,
        handler: recorder("user.created"),
      },
      "user.*": { context: true, handler: recorder("user.*") },
      "deno.**": { context: true, handler: recorder("deno.**") },
      "broadcast.test": { context: true, handler: recorder("broadcast.test") },
    },
  },
};

// Loaded only when named in `services`, so the default set (and what other tests see) is unchanged.
const optional = {
  // Binary across the wire: what arrives is checked with Buffer.isBuffer, what leaves is a Buffer.
  binary: {
    name: "nodebinary",
    actions: {
      inspect(ctx) {
        const blob = ctx.params.blob;
        const nested = ctx.params.nested?.blob;
        return {
          isBuffer: Buffer.isBuffer(blob),
          hex: Buffer.isBuffer(blob) ? blob.toString("hex") : null,
          nestedIsBuffer: Buffer.isBuffer(nested),
          nestedHex: Buffer.isBuffer(nested) ? nested.toString("hex") : null,
        };
      },
      make(ctx) {
        return Buffer.from(ctx.params.text, "utf8");
      },
      async roundTrip(ctx) {
        const sent = Buffer.from(ctx.params.hex, "hex");
        const res = await ctx.call(ctx.params.action, { blob: sent });
        return {
          isBuffer: Buffer.isBuffer(res?.echo),
          hex: Buffer.isBuffer(res?.echo) ? res.echo.toString("hex") : null,
          seen: res?.seen,
        };
      },
      async emitBinary(ctx) {
        await ctx.emit(ctx.params.event, { blob: Buffer.from(ctx.params.hex, "hex") });
        return true;
      },
    },
  },
};

function recorder(pattern) {
  // The parameter must be named `ctx`: Moleculer 0.14 picks the handler signature from it.
  return function (ctx) {
    send({
      type: "event",
      handler: pattern,
      event: ctx.eventName,
      data: ctx.params,
      groups: ctx.eventGroups,
      eventType: ctx.eventType,
      nodeID: ctx.nodeID,
      meta: ctx.meta,
      ...describeCtx(ctx),
    });
  };
}

// `$node.connected`/`$node.disconnected` are recorded from the broker's internal local bus, which is
// hooked before `broker.start()`: a service handler would miss the nodes found by the discovery
// that runs before the services start. They are recorded whichever presets are loaded.
function recordLocal(eventName) {
  broker.localBus.on(eventName, (payload) => {
    send({
      type: "local-event",
      event: eventName,
      nodeID: payload?.node?.id,
      unexpected: payload?.unexpected,
      reconnected: payload?.reconnected,
    });
  });
}

const brokerOptions = {
  nodeID: options.nodeID,
  transporter: options.transporter,
  logLevel: options.logLevel ?? "warn",
  ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
  ...(options.heartbeatInterval !== undefined
    ? { heartbeatInterval: options.heartbeatInterval }
    : {}),
  ...(options.heartbeatTimeout !== undefined ? { heartbeatTimeout: options.heartbeatTimeout } : {}),
  ...(options.disableBalancer !== undefined ? { disableBalancer: options.disableBalancer } : {}),
  ...(options.brokerOptions ?? {}),
};

const broker = new ServiceBroker(brokerOptions);
recordLocal("$node.connected");
recordLocal("$node.disconnected");
for (const name of options.services ?? Object.keys(presets)) {
  const schema = presets[name] ?? optional[name];
  if (!schema) {
    process.stderr.write(
      `[peer] unknown preset service ${JSON.stringify(name)}\n`,
    );
    process.exit(64);
  }
  broker.createService(schema);
}

function serializeError(err) {
  if (err == null || typeof err !== "object") {
    return { name: "Error", message: String(err), ctorName: "unknown" };
  }
  return {
    name: err.name,
    message: err.message,
    code: err.code,
    type: err.type,
    data: err.data,
    retryable: err.retryable,
    nodeID: err.nodeID,
    ctorName: err.constructor?.name,
  };
}

const commands = {
  async call({ action, params, opts }) {
    // Context.create uses `opts.meta` itself (not a copy) as the root ctx.meta, and both the
    // local path and the remote RES handler merge the response meta into ctx.meta. So the
    // object we pass in is the caller-side meta after the call, on success and on failure.
    const meta = { ...(opts?.meta ?? {}) };
    const p = broker.call(action, params, { ...(opts ?? {}), meta });
    try {
      const data = await p;
      return { data, meta, nodeID: p.ctx?.nodeID };
    } catch (err) {
      err.__callerMeta = meta;
      throw err;
    }
  },
  async emit({ event, data, opts }) {
    await broker.emit(event, data, opts);
    return null;
  },
  async broadcast({ event, data, opts }) {
    await broker.broadcast(event, data, opts);
    return null;
  },
  ping({ nodeID, timeout }) {
    return broker.ping(nodeID, timeout);
  },
  async waitForServices({ services, timeout }) {
    await broker.waitForServices(services, timeout);
    return null;
  },
  nodes({ params }) {
    return broker.call("$node.list", params ?? {});
  },
};

let stopping = false;
async function stopAndExit(code, reply) {
  if (stopping) return;
  stopping = true;
  let ok = true;
  let error;
  try {
    await broker.stop();
  } catch (err) {
    ok = false;
    error = serializeError(err);
    process.stderr.write(`[peer] broker.stop failed: ${err?.stack ?? err}\n`);
  }
  if (reply) {
    send({
      type: "reply",
      id: reply.id,
      ok,
      ...(ok ? { result: null } : { error }),
    });
  }
  // Exit only once stdout is flushed.
  process.stdout.write("", () => process.exit(code));
}

async function handleLine(line) {
  if (!line.trim()) return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (err) {
    process.stderr.write(
      `[peer] bad command line ${JSON.stringify(line)}: ${err}\n`,
    );
    return;
  }
  if (msg.cmd === "stop") return stopAndExit(0, msg);
  const fn = commands[msg.cmd];
  try {
    if (!fn) throw new Error(`unknown command ${JSON.stringify(msg.cmd)}`);
    const result = await fn(msg);
    send({ type: "reply", id: msg.id, ok: true, result: result ?? null });
  } catch (err) {
    const reply = {
      type: "reply",
      id: msg.id,
      ok: false,
      error: serializeError(err),
    };
    if (err && err.__callerMeta) reply.meta = err.__callerMeta;
    send(reply);
  }
}

await broker.start();
send({ type: "ready", nodeID: broker.nodeID });

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  handleLine(line).catch((err) => {
    process.stderr.write(`[peer] command failed: ${err?.stack ?? err}\n`);
  });
});
rl.on("close", () => {
  // Parent closed our stdin (or died): never outlive it.
  stopAndExit(0);
});
