/**
 * The transmit middlewares and the four transit hooks on the in-process transporter: the hooks'
 * arguments and Moleculer's order, Compression's and Encryption's bytes equal to Moleculer's
 * own (made by Moleculer 0.14 and 0.15 in Node), their options and errors, the names in the
 * `middlewares` option, and packets that cannot be read (dropped with a reason, nothing
 * crashes).
 */

import assert from "node:assert/strict";
import {
  BrokerOptionsError,
  Compression,
  type Context,
  Encryption,
  type MiddlewareHooks,
  Middlewares,
  type TransitPacket,
  type TransporterSendMeta,
} from "../../mod.ts";
import { nodeBinary, requirePeers } from "../_helpers/moleculer_peer.ts";
import { startDeno } from "../transit/_util.ts";
import { until } from "../_helpers/core.ts";
import { fileURLToPath } from "node:url";

const MOLECULER_014 = fileURLToPath(
  new URL("../node_modules/moleculer-014", import.meta.url),
);
const MOLECULER_015 = fileURLToPath(
  new URL("../node_modules/moleculer-015", import.meta.url),
);

const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const KEY = "0123456789abcdef0123456789abcdef";
const IV = "fedcba9876543210";
const echo = {
  name: "m",
  actions: { echo: (ctx: Context) => ctx.params },
};

/** What a middleware's send hook hands on, for fixed bytes. */
async function sent(
  mw: MiddlewareHooks,
  data: Uint8Array,
): Promise<Uint8Array> {
  let out: Uint8Array | undefined;
  const meta = { packet: { type: "REQ", target: "n", payload: {} } };
  await mw.transporterSend!((_t, d) => {
    out = d;
    return Promise.resolve();
  })("MOL.REQ.n", data, meta);
  return out!;
}

/** What a middleware's receive hook hands on (or throws). */
async function received(
  mw: MiddlewareHooks,
  data: Uint8Array,
): Promise<Uint8Array> {
  let out: Uint8Array | undefined;
  await mw.transporterReceive!((_c, d) => {
    out = d;
  })("REQ", data);
  return out!;
}

// Moleculer's own middlewares, run in Node: each sends DATA (its bytes come back) and
// receives what this side sent for it (OURS; what it hands on comes back). Base64 both ways.
const NODE_SCRIPT = `
const out = {};
const ours = JSON.parse(process.env.OURS);
const data = Buffer.from(process.env.DATA, "base64");
const jobs = [];
for (const [v, dir] of [["0.14", process.env.M14], ["0.15", process.env.M15]]) {
  const { Transmit } = require(dir).Middlewares;
  const run = (name, mw) => {
    mw.created && mw.created.call({ logger: { info() {} } }, { getLogger: () => ({ info() {}, debug() {} }) });
    const entry = (out[v + " " + name] = {});
    jobs.push(Promise.resolve(mw.transporterSend((t, d) => { entry.sent = d.toString("base64"); })("MOL.REQ.n", data, {})));
    jobs.push(Promise.resolve(mw.transporterReceive((c, d) => { entry.read = d.toString("base64"); })("REQ", Buffer.from(ours[name], "base64"))));
  };
  for (const method of ["deflate", "deflateRaw", "gzip"]) run(method, Transmit.Compression({ method, threshold: 10 }));
  run("small", Transmit.Compression({ method: "gzip", threshold: 100000 }));
  run("aes-iv", Transmit.Encryption(process.env.KEY, "aes-256-cbc", process.env.IV));
  if (v === "0.14") run("aes-password", Transmit.Encryption("a password"));
  if (v === "0.14") run("aes128-password", Transmit.Encryption("a password", "aes-128-cbc"));
}
Promise.all(jobs).then(() => process.stdout.write(JSON.stringify(out)));
`;

const base64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

Deno.test("Compression and Encryption interoperate with Moleculer's, byte for byte where bytes are fixed", async () => {
  requirePeers();
  const data = enc(
    JSON.stringify({ ver: "5", sender: "n", data: "héllo ".repeat(200) }),
  );
  const mws: Record<string, MiddlewareHooks> = {
    deflate: Compression({ method: "deflate", threshold: 10 }),
    deflateRaw: Compression("deflateRaw", 10),
    gzip: Middlewares.Transmit.Compression({ method: "gzip", threshold: 10 }),
    small: Compression("gzip", 100000),
    "aes-iv": Encryption(KEY, "aes-256-cbc", IV),
    "aes-password": Encryption("a password"),
    "aes128-password": Encryption("a password", "aes-128-cbc"),
  };
  const ours: Record<string, Uint8Array> = {};
  for (const [name, mw] of Object.entries(mws)) {
    ours[name] = await sent(mw, data);
  }
  const out = await new Deno.Command(nodeBinary(), {
    args: ["-e", NODE_SCRIPT],
    env: {
      M14: MOLECULER_014,
      M15: MOLECULER_015,
      DATA: base64(data),
      OURS: JSON.stringify(
        Object.fromEntries(
          Object.entries(ours).map(([k, v]) => [k, base64(v)]),
        ),
      ),
      KEY,
      IV,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const theirs = JSON.parse(new TextDecoder().decode(out.stdout)) as Record<
    string,
    { sent: string; read: string }
  >;
  assert.equal(Object.keys(theirs).length, 12);
  for (const [key, { sent: bytes, read }] of Object.entries(theirs)) {
    const name = key.split(" ")[1]!;
    assert.deepEqual(
      await received(mws[name]!, b64(bytes)),
      data,
      `${key}: we read Moleculer's`,
    );
    assert.deepEqual(b64(read), data, `${key}: Moleculer reads ours`);
    if (["deflate", "deflateRaw", "gzip"].includes(name)) {
      // zlib builds may differ in their bytes (every one inflates the others'): the header is
      // Moleculer's.
      assert.equal(ours[name]![0], b64(bytes)[0], `${key}: the header`);
    } else {
      assert.deepEqual(ours[name], b64(bytes), `${key}: the same bytes`);
    }
  }
});

Deno.test("Compression: under the threshold a 0x00 header, over it 0x01 and the method's bytes", async () => {
  const mw = Compression("gzip", "1kb");
  const small = await sent(mw, enc("{}"));
  assert.deepEqual(small, new Uint8Array([0, ...enc("{}")]));
  const big = await sent(mw, enc("x".repeat(2000)));
  assert.deepEqual([...big.subarray(0, 3)], [1, 0x1f, 0x8b]);
  // No threshold (Moleculer: a value that is no size): everything compressed.
  assert.equal((await sent(Compression({ threshold: null }), enc("{}")))[0], 1);
  // Another node's method is read too, by its header.
  const deflated = await sent(Compression("deflate", 0), enc("hello"));
  assert.deepEqual(await received(mw, deflated), enc("hello"));
});

Deno.test("Compression: a packet without the header, garbage, or a bomb is refused with why", async () => {
  const mw = Compression("deflate");
  await assert.rejects(
    received(mw, enc('{"a":1}')),
    /no compression header.*0x7b/,
  );
  await assert.rejects(
    received(mw, new Uint8Array([1, 9, 9, 9])),
    /cannot decompress/,
  );
  await assert.rejects(received(mw, new Uint8Array()), /empty packet/);
  const bomb = await sent(Compression("deflate", 0), new Uint8Array(5_000_000));
  await assert.rejects(
    received(Compression({ maxDecompressedSize: 1_000_000 }), bomb),
    /inflates past maxDecompressedSize \(1000000 bytes\)/,
  );
});

Deno.test("transmit options: bad values name the option and the fix", () => {
  assert.throws(
    () => Compression("zip" as "gzip"),
    (e: unknown) =>
      e instanceof BrokerOptionsError &&
      /'deflate', 'deflateRaw', 'gzip'/.test(e.message),
  );
  assert.throws(
    () => Compression({ level: 9 } as never),
    /Unknown Compression option 'level'/,
  );
  assert.throws(
    () => Compression({ maxDecompressedSize: -1 }),
    /positive integer/,
  );
  assert.throws(() => Encryption(""), /needs a password/);
  assert.throws(
    () => Encryption("short", "aes-256-cbc", IV),
    /takes 32 bytes, not 5/,
  );
  assert.throws(
    () => Encryption(KEY, "aes-256-cbc", "short"),
    /IV of 'aes-256-cbc' takes 16 bytes/,
  );
  assert.throws(
    () => Encryption(KEY.slice(0, 16), "aes-128-ecb", IV),
    /takes no IV/,
  );
});

Deno.test("Encryption: an unknown cipher fails every packet with the list of known ones", async () => {
  const mw = Encryption("pw", "rot13");
  await assert.rejects(
    sent(mw, enc("{}")),
    /unknown cipher 'rot13'\. Known: .*aes-256-cbc/,
  );
  await assert.rejects(
    received(Encryption(KEY, "aes-256-cbc", IV), enc("x".repeat(16))),
    /cannot decrypt/,
  );
});

Deno.test("middlewares by name: Compression as in Moleculer; Encryption needs its password", async () => {
  await using a = await startDeno({
    nodeID: "by-name-a",
    transporter: "memory://transmit-by-name",
    middlewares: ["Transmit.Compression"],
    services: [echo],
  });
  await using b = await startDeno({
    nodeID: "by-name-b",
    transporter: "memory://transmit-by-name",
    middlewares: ["Compression"],
  });
  await b.broker.waitForServices(["m"], 3000);
  const big = { s: "y".repeat(3000) };
  assert.deepEqual(await b.broker.call("m.echo", big), big);
  assert.deepEqual(
    [...a.logs, ...b.logs].filter((l) => l.level === "warn"),
    [],
  );
  await assert.rejects(
    startDeno({
      nodeID: "x",
      transporter: "memory://x",
      middlewares: ["Encryption"],
    }),
    /Encryption needs a password/,
  );
  await assert.rejects(
    startDeno({ nodeID: "x", transporter: "memory://x", middlewares: ["Zip"] }),
    /Unknown built-in middleware 'Zip' in option 'middlewares'\. Built-in middlewares: .*Transmit\.Compression, Compression/,
  );
});

Deno.test("the four hooks: Moleculer's arguments and order, on the wire both ways", async () => {
  const seen: string[] = [];
  const tag = (name: string, byte: number): MiddlewareHooks => ({
    name,
    transitPublish: (next) => (packet: TransitPacket) => {
      if (packet.type === "REQ") {
        seen.push(`${name} publish ${packet.type} ${packet.target}`);
      }
      return next(packet);
    },
    transporterSend: (next) =>
    (
      topic: string,
      data: Uint8Array,
      meta: TransporterSendMeta,
    ) => {
      if (meta.packet.type === "REQ") seen.push(`${name} send ${topic}`);
      return next(topic, new Uint8Array([byte, ...data]), meta);
    },
    transporterReceive: (next) => (cmd, data, s) => {
      assert.equal(data[0], byte, `${name} reads its own byte first`);
      if (cmd === "REQ") seen.push(`${name} receive ${cmd}`);
      return next(cmd, data.subarray(1), s);
    },
    transitMessageHandler: (next) => async (cmd, packet) => {
      const done = await next(cmd, packet);
      if (cmd === "REQ") {
        seen.push(
          `${name} handled ${cmd} from ${packet.payload.sender} ${done}`,
        );
      }
      return done;
    },
  });
  const mws = () => [tag("first", 0xf1), tag("second", 0xf2)];
  await using a = await startDeno({
    nodeID: "hooks-a",
    transporter: "memory://transmit-hooks",
    middlewares: mws(),
    services: [echo],
  });
  await using b = await startDeno({
    nodeID: "hooks-b",
    transporter: "memory://transmit-hooks",
    middlewares: mws(),
  });
  await b.broker.waitForServices(["m"], 3000);
  seen.length = 0;
  assert.deepEqual(await b.broker.call("m.echo", { x: 1 }), { x: 1 });
  // As in Moleculer, the handler of a REQ settles once the request is handled, response sent:
  // the caller may see the response a moment before the responder's hooks log "handled".
  await until(() => seen.length >= 8, "the responder's handled hooks");
  // As Moleculer: the first middleware is the nearest to the transporter (its byte is outermost
  // on the wire) and the nearest to the packet handler.
  assert.deepEqual(seen, [
    "second publish REQ hooks-a",
    "first publish REQ hooks-a",
    "second send MOL.REQ.hooks-a",
    "first send MOL.REQ.hooks-a",
    "first receive REQ",
    "second receive REQ",
    "first handled REQ from hooks-b true",
    "second handled REQ from hooks-b true",
  ]);
  assert.deepEqual(
    [...a.logs, ...b.logs].filter((l) => l.level === "warn"),
    [],
  );
});

Deno.test("a node with Compression and one without: packets dropped with the cause, never a crash", async () => {
  await using zipped = await startDeno({
    nodeID: "zipped",
    transporter: "memory://transmit-mismatch",
    middlewares: [Compression({ threshold: 0 })],
    services: [echo],
  });
  await using plain = await startDeno({
    nodeID: "plain",
    transporter: "memory://transmit-mismatch",
  });
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(plain.broker.registry.nodes.has("zipped"), false);
  const warn = (logs: typeof plain.logs) =>
    logs.filter((l) => l.level === "warn").map((l) => l.message);
  assert.ok(
    warn(plain.logs).some((m) => /seems to use the Compression middleware/.test(m)),
    warn(plain.logs).join("\n"),
  );
  assert.ok(
    warn(zipped.logs).some((m) =>
      /from 'plain': Compression: the packet has no compression header.*It is plain JSON: the sender seems not to use Compression/
        .test(m)
    ),
    warn(zipped.logs).join("\n"),
  );
});
