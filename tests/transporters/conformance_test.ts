/**
 * One conformance suite, run against every transporter implementation. A new transporter joins
 * by adding an entry to `IMPLEMENTATIONS`, declaring its capabilities.
 *
 * It checks the contract as transit uses it: packets by type, broadcast or for one node;
 * namespaces kept apart; balanced request and event queues (`disableBalancer`), event patterns
 * included; unsubscribing; the disconnected state; a failing `receive`; per-publisher order.
 *
 * The capabilities tell the transporters apart, as they tell Moleculer's. A step, or the part of
 * a step, that a transporter cannot do is left out for it only because a capability says so,
 * and where a capability is missing the step checks what happens instead (the balanced methods
 * reject; a packet without a frame is not sent).
 */

import assert from "node:assert/strict";
import { BrokerDisconnectedError, MoleculerError } from "../../src/errors.ts";
import type { PacketType } from "../../src/core/protocol.ts";
import { MemoryTransporter } from "../../src/transporters/memory.ts";
import { NatsTransporter } from "../../src/transporters/nats/nats.ts";
import type { NatsTransportKind } from "../../src/transporters/nats/options.ts";
import { TcpTransporter } from "../../src/transporters/tcp/tcp.ts";
import { AmqpTransporter } from "../../src/transporters/amqp/amqp.ts";
import { MqttTransporter } from "../../src/transporters/mqtt/mqtt.ts";
import { RedisTransporter } from "../../src/transporters/redis/redis.ts";
import type { Transporter } from "../../src/transporters/transporter.ts";
import { freePort, startNatsServer } from "../_helpers/nats_server.ts";
import { startMosquitto, startRabbitVhost, startRedisServer } from "../_helpers/servers.ts";
import { bytes, RecordingHost, sync } from "./_util.ts";

/** Makes transporters that can talk to each other. */
interface Environment extends AsyncDisposable {
  /** A transporter for the node `nodeID` of `namespace` (TCP needs both to know its peers). */
  make(nodeID: string, namespace: string): Transporter;
  /**
   * Give each step namespaces of its own: the server keeps a node's queues, and what is in
   * them, between its connections (AMQP), so a step must not meet the previous one's leftovers.
   */
  isolateSteps?: boolean;
}

interface Implementation {
  name: string;
  /** Whether it balances by itself (queue groups), as its `hasBuiltInBalancer` says. */
  balances: boolean;
  /** Whether a balanced event subscription may be a pattern (AMQP's queues are exact names). */
  balancedPatterns: boolean;
  /**
   * Whether packets to all nodes, and INFO/DISCOVER/HEARTBEAT/DISCONNECT, travel. Moleculer's
   * TCP transporter sends only targeted EVENT/REQ/RES/PING/PONG frames: its gossip carries the
   * rest.
   */
  broadcast: boolean;
  /**
   * Whether a packet for a node it has no address of rejects (`NODE_UNREACHABLE`, TCP) instead
   * of going to a subject nobody listens on.
   */
  unknownTargetRejects: boolean;
  /**
   * Whether packets of different types keep the publisher's order between them (AMQP: one
   * queue per type, each in order, delivered side by side).
   */
  orderAcrossTypes: boolean;
  setup(): Promise<Environment>;
}

/** Every nodeID the steps use: a TCP node is given the addresses of all of them. */
const NODE_IDS = [
  "a",
  "b",
  "c",
  "n",
  "s",
  "caller",
  "w1",
  "w2",
  "other",
  "emitter",
  "m1",
  "m2",
  "star",
  "deep",
  "state",
  "early",
];

/** A NATS transporter on one of its clients (`"wire"` is the default), on a private server. */
function nats(name: string, transport: NatsTransportKind): Implementation {
  return {
    name,
    balances: true,
    balancedPatterns: true,
    broadcast: true,
    unknownTargetRejects: false,
    orderAcrossTypes: true,
    async setup() {
      const server = await startNatsServer();
      return {
        make: () => new NatsTransporter({ servers: server.url, reconnectTimeWait: 50, transport }),
        [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
      };
    },
  };
}

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: "Memory",
    balances: true,
    balancedPatterns: true,
    broadcast: true,
    unknownTargetRejects: false,
    orderAcrossTypes: true,
    setup() {
      const group = `conformance-${crypto.randomUUID()}`;
      return Promise.resolve({
        make: () => new MemoryTransporter(group),
        [Symbol.asyncDispose]: () => Promise.resolve(),
      });
    },
  },
  nats("NATS", "wire"),
  nats("NATS (nats.js on DenoTransport)", "deno"),
  {
    name: "TCP",
    balances: false,
    balancedPatterns: false,
    broadcast: false,
    unknownTargetRejects: true,
    orderAcrossTypes: true,
    setup() {
      // Static addresses (no UDP), one port per nodeID and namespace: a namespace's nodes know
      // only each other, as nodes configured with their own `urls` would.
      const ports = new Map<string, number>();
      const portOf = (ns: string, id: string) => {
        const key = `${ns}/${id}`;
        if (!ports.has(key)) ports.set(key, freePort());
        return ports.get(key)!;
      };
      return Promise.resolve({
        make: (nodeID: string, namespace: string) =>
          new TcpTransporter({
            udpDiscovery: false,
            port: portOf(namespace, nodeID),
            urls: NODE_IDS.filter((id) => id !== nodeID).map((id) =>
              `127.0.0.1:${portOf(namespace, id)}/${id}`
            ),
          }),
        [Symbol.asyncDispose]: () => Promise.resolve(),
      });
    },
  },
  {
    name: "Redis",
    balances: false,
    balancedPatterns: false,
    broadcast: true,
    unknownTargetRejects: false,
    orderAcrossTypes: true,
    async setup() {
      const server = await startRedisServer();
      return {
        make: () => new RedisTransporter(server.url),
        [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
      };
    },
  },
  {
    name: "MQTT",
    balances: false,
    balancedPatterns: false,
    broadcast: true,
    unknownTargetRejects: false,
    orderAcrossTypes: true,
    async setup() {
      const server = await startMosquitto();
      return {
        make: () => new MqttTransporter(server.url),
        [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
      };
    },
  },
  {
    // RabbitMQ cannot be spawned per test: a vhost of its own on the shared server.
    name: "AMQP",
    balances: true,
    balancedPatterns: false,
    broadcast: true,
    unknownTargetRejects: false,
    orderAcrossTypes: false,
    async setup() {
      const vhost = await startRabbitVhost();
      return {
        make: () => new AmqpTransporter({ url: vhost.url, prefetch: 100 }),
        isolateSteps: true,
        [Symbol.asyncDispose]: () => vhost[Symbol.asyncDispose](),
      };
    },
  },
];

/** A connected transporter and the host it reports to. */
interface Node {
  readonly t: Transporter;
  readonly host: RecordingHost;
}

/** Connects transporters for one step and disconnects them all at its end. */
class Pool implements AsyncDisposable {
  readonly #all: Transporter[] = [];
  readonly #salt: string;
  constructor(readonly env: Environment) {
    this.#salt = env.isolateSteps ? crypto.randomUUID().slice(0, 8) : "";
  }

  async connect(nodeID: string, namespace = ""): Promise<Node> {
    const ns = this.#salt === ""
      ? namespace
      : namespace
      ? `${namespace}-${this.#salt}`
      : this.#salt;
    const t = this.env.make(nodeID, ns);
    const host = new RecordingHost(nodeID, ns);
    this.#all.push(t);
    await t.connect(host);
    return { t, host };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#all.map((t) => t.disconnect()));
  }
}

/**
 * Publish a marker (a PING, which every transporter carries) from `from` to each receiver and
 * wait for it: a publisher's packets of a type arrive in order, so once the marker is in,
 * everything `from` sent before it has arrived (of every type where `orderAcrossTypes`; where
 * not, the steps first wait for the packets they expect). The marker is removed from what the
 * hosts recorded.
 */
async function barrier(from: Node, ...to: Node[]): Promise<void> {
  const subs = [];
  for (const n of to) {
    subs.push(await n.t.subscribe("PING", n.host.nodeID));
    await sync(n.t, n.host);
    await from.t.publish("PING", n.host.nodeID, bytes("barrier"));
  }
  for (const n of to) {
    const deadline = Date.now() + 5_000;
    while (!n.host.texts.includes("barrier")) {
      if (Date.now() > deadline) {
        throw new Error(`no barrier at ${n.host.nodeID}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    n.host.received.splice(n.host.texts.indexOf("barrier"), 1);
  }
  for (const sub of subs) sub.unsubscribe();
}

/** Resolves once the hosts together have received `n` packets. */
async function waitForTotal(
  hosts: RecordingHost[],
  n: number,
  ms = 5_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (hosts.reduce((sum, h) => sum + h.received.length, 0) < n) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${n} packets in all`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lines (`"<TYPE> <text>"`) grouped by type, each type's lines in their order. */
function byType(lines: readonly string[]): string[] {
  const type = (line: string) => line.slice(0, line.indexOf(" "));
  return lines.map((line, i) => ({ line, i })).sort((x, y) =>
    type(x.line).localeCompare(type(y.line)) || x.i - y.i
  ).map((x) => x.line);
}

for (const impl of IMPLEMENTATIONS) {
  /**
   * What `host` received is `expected`: in this order, or, where the order holds only within a
   * type (`orderAcrossTypes: false`), in this order type by type.
   */
  const assertLines = (
    host: RecordingHost,
    expected: string[],
    message?: string,
  ) => {
    if (impl.orderAcrossTypes) assert.deepEqual(host.lines, expected, message);
    else assert.deepEqual(byType(host.lines), byType(expected), message);
  };

  Deno.test(`Transporter conformance: ${impl.name}`, async (t) => {
    await using env = await impl.setup();

    await t.step(
      "reports its name, balancer support and connection state",
      async () => {
        const tr = env.make("state", "");
        assert.equal(typeof tr.name, "string");
        assert.equal(tr.hasBuiltInBalancer, impl.balances);
        assert.equal(tr.connected, false);
        await tr.connect(new RecordingHost("state"));
        try {
          assert.equal(tr.connected, true);
          const max = tr.maxPayload;
          assert.ok(max === undefined || (Number.isInteger(max) && max > 0));
        } finally {
          await tr.disconnect();
        }
        assert.equal(tr.connected, false);
      },
    );

    await t.step(
      "delivers packets by type: broadcast, and only those for this node",
      async () => {
        await using pool = new Pool(env);
        const a = await pool.connect("a");
        const b = await pool.connect("b");
        const c = await pool.connect("c");
        for (const n of [b, c]) {
          await n.t.subscribe("INFO");
          await n.t.subscribe("INFO", n.host.nodeID);
          await n.t.subscribe("REQ", n.host.nodeID);
        }
        await Promise.all([sync(b.t, b.host), sync(c.t, c.host)]);
        await a.t.publish("REQ", "b", bytes("req-for-b"));
        await a.t.publish("INFO", undefined, bytes("info-for-all"));
        await a.t.publish("INFO", "c", bytes("info-for-c"));
        await a.t.publish("RES", "b", bytes("res-nobody-subscribed"));
        await a.t.publish("EVENT", "b", bytes("event-nobody-subscribed"));
        if (impl.unknownTargetRejects) {
          await assert.rejects(
            a.t.publish("REQ", "z", bytes("req-for-nobody")),
            (e) => e instanceof MoleculerError && e.type === "NODE_UNREACHABLE",
          );
        } else {
          await a.t.publish("REQ", "z", bytes("req-for-nobody"));
        }
        await a.t.publish("REQ", "b", bytes("req-for-b-again"));
        // Without broadcast (TCP), INFO travels by gossip only: neither copy is sent.
        const toB = impl.broadcast
          ? ["REQ req-for-b", "INFO info-for-all", "REQ req-for-b-again"]
          : ["REQ req-for-b", "REQ req-for-b-again"];
        const toC = impl.broadcast ? ["INFO info-for-all", "INFO info-for-c"] : [];
        await b.host.waitFor(toB.length);
        await c.host.waitFor(toC.length);
        await barrier(a, b, c);
        assertLines(b.host, toB);
        assertLines(c.host, toC);
        assert.deepEqual(a.host.received, [], "a subscribed to nothing");
      },
    );

    await t.step("namespaces never see each other", async () => {
      await using pool = new Pool(env);
      const spaces = ["", "alpha", "beta"];
      const nodes: Node[] = [];
      const senders: Node[] = [];
      for (const ns of spaces) {
        const n = await pool.connect("n", ns);
        await n.t.subscribe("HEARTBEAT");
        await n.t.subscribe("REQ", "n");
        if (impl.balances) await n.t.subscribeBalancedRequest("svc.act");
        nodes.push(n);
        senders.push(await pool.connect("s", ns));
      }
      await Promise.all(nodes.map((n) => sync(n.t, n.host)));
      // The same nodeID, broadcast and queue name in every namespace: each gets its own only.
      const expected = spaces.map((ns) => {
        const tag = ns || "plain";
        return [
          `REQ req-${tag}`,
          ...impl.broadcast ? [`HEARTBEAT beat-${tag}`] : [],
          ...impl.balances ? [`REQ call-${tag}`] : [],
        ];
      });
      for (const [i, ns] of spaces.entries()) {
        const s = senders[i]!, tag = ns || "plain";
        await s.t.publish("REQ", "n", bytes(`req-${tag}`));
        if (impl.broadcast) {
          await s.t.publish("HEARTBEAT", undefined, bytes(`beat-${tag}`));
        }
        if (impl.balances) {
          await s.t.publishBalancedRequest("svc.act", bytes(`call-${tag}`));
        }
      }
      for (const [i, n] of nodes.entries()) {
        await n.host.waitFor(expected[i]!.length);
        await barrier(senders[i]!, n);
      }
      for (const [i, n] of nodes.entries()) {
        assertLines(n.host, expected[i]!, `namespace '${spaces[i]}'`);
      }
    });

    if (impl.balances) {
      await t.step(
        "a balanced request reaches exactly one member of its action's queue",
        async () => {
          await using pool = new Pool(env);
          const caller = await pool.connect("caller");
          const w1 = await pool.connect("w1");
          const w2 = await pool.connect("w2");
          const other = await pool.connect("other");
          await w1.t.subscribeBalancedRequest("svc.work");
          await w2.t.subscribeBalancedRequest("svc.work");
          await other.t.subscribeBalancedRequest("svc.other");
          await Promise.all([w1, w2, other].map((n) => sync(n.t, n.host)));

          const N = 60;
          for (let i = 0; i < N; i++) {
            await caller.t.publishBalancedRequest("svc.work", bytes(`${i}`));
          }
          await caller.t.publishBalancedRequest("svc.other", bytes("other"));
          await waitForTotal([w1.host, w2.host], N);
          await other.host.waitFor(1);
          await Promise.all([w1, w2].map((n) => sync(n.t, n.host)));

          const got = [...w1.host.texts, ...w2.host.texts].map(Number).sort((
            x,
            y,
          ) => x - y);
          assert.deepEqual(
            got,
            Array.from({ length: N }, (_, i) => i),
            "each request exactly once",
          );
          assert.ok(w1.host.received.length > 0, "the first member got some");
          assert.ok(w2.host.received.length > 0, "the second member got some");
          for (const n of [w1, w2, other]) {
            assert.ok(
              n.host.received.every((r) => r.type === "REQ"),
              "balanced requests are REQs",
            );
          }
          assert.deepEqual(other.host.texts, ["other"]);
        },
      );

      await t.step(
        "a balanced event reaches one member of its group's queue, patterns too",
        async () => {
          await using pool = new Pool(env);
          const emitter = await pool.connect("emitter");
          const m1 = await pool.connect("m1");
          const m2 = await pool.connect("m2");
          const star = await pool.connect("star");
          const deep = await pool.connect("deep");
          await m1.t.subscribeBalancedEvent("user.created", "mail");
          await m2.t.subscribeBalancedEvent("user.created", "mail");
          await star.t.subscribeBalancedEvent(
            impl.balancedPatterns ? "user.*" : "user.created",
            "audit",
          );
          await deep.t.subscribeBalancedEvent(
            impl.balancedPatterns ? "order.**" : "order.paid",
            "billing",
          );
          await Promise.all([m1, m2, star, deep].map((n) => sync(n.t, n.host)));

          const N = 20;
          for (let i = 0; i < N; i++) {
            await emitter.t.publishBalancedEvent(
              "user.created",
              "mail",
              bytes(`mail-${i}`),
            );
          }
          await emitter.t.publishBalancedEvent(
            "user.created",
            "audit",
            bytes("audit-created"),
          );
          await emitter.t.publishBalancedEvent(
            "user.name.changed",
            "audit",
            bytes("audit-deeper"),
          );
          await emitter.t.publishBalancedEvent(
            "order.paid",
            "billing",
            bytes("billing-1"),
          );
          await emitter.t.publishBalancedEvent(
            "order.line.added",
            "billing",
            bytes("billing-2"),
          );
          await emitter.t.publishBalancedEvent(
            "order.paid",
            "mail",
            bytes("mail-other-event"),
          );
          await waitForTotal([m1.host, m2.host], N);
          await star.host.waitFor(1);
          await deep.host.waitFor(impl.balancedPatterns ? 2 : 1);
          await Promise.all([m1, m2, star, deep].map((n) => sync(n.t, n.host)));

          const mails = [...m1.host.texts, ...m2.host.texts].sort();
          assert.deepEqual(
            mails,
            Array.from({ length: N }, (_, i) => `mail-${i}`).sort(),
          );
          assert.ok(
            m1.host.received.length > 0 && m2.host.received.length > 0,
            "both members",
          );
          assert.deepEqual(
            star.host.lines,
            ["EVENT audit-created"],
            "'*' is one segment",
          );
          if (impl.balancedPatterns) {
            assert.deepEqual(
              deep.host.lines,
              ["EVENT billing-1", "EVENT billing-2"],
              "'**' the rest",
            );
          } else {
            assert.deepEqual(
              deep.host.lines,
              ["EVENT billing-1"],
              "queues by exact name",
            );
          }
        },
      );
    } else {
      await t.step(
        "has no balanced queues: its balanced methods reject",
        async () => {
          await using pool = new Pool(env);
          const a = await pool.connect("a");
          const refused = [
            a.t.subscribeBalancedRequest("svc.x"),
            a.t.subscribeBalancedEvent("ev", "grp"),
            a.t.publishBalancedRequest("svc.x", bytes("x")),
            a.t.publishBalancedEvent("ev", "grp", bytes("x")),
          ];
          for (const p of refused) {
            await assert.rejects(
              p,
              (e) =>
                e instanceof MoleculerError && e.code === 500 &&
                /no balanced queues/.test(e.message),
            );
          }
        },
      );
    }

    await t.step("unsubscribe stops delivery, and is idempotent", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect("a");
      const b = await pool.connect("b");
      const plain = await a.t.subscribe("EVENT", "a");
      // A second subscription of another kind: the balanced queue, or a targeted REQ.
      const other = impl.balances
        ? await a.t.subscribeBalancedRequest("svc.x")
        : await a.t.subscribe("REQ", "a");
      const sendOther = (text: string) =>
        impl.balances
          ? b.t.publishBalancedRequest("svc.x", bytes(text))
          : b.t.publish("REQ", "a", bytes(text));
      if (impl.broadcast) await a.t.subscribe("DISCONNECT");
      await sync(a.t, a.host);
      await b.t.publish("EVENT", "a", bytes("1"));
      await sendOther("2");
      await a.host.waitFor(2);
      await barrier(b, a);
      plain.unsubscribe();
      plain.unsubscribe();
      other.unsubscribe();
      other.unsubscribe();
      await b.t.publish("EVENT", "a", bytes("3"));
      await sendOther("4");
      // What is still subscribed goes on arriving.
      if (impl.broadcast) {
        await b.t.publish("DISCONNECT", undefined, bytes("marker"));
      }
      await a.host.waitFor(impl.broadcast ? 3 : 2);
      await barrier(b, a);
      assertLines(a.host, [
        "EVENT 1",
        "REQ 2",
        ...impl.broadcast ? ["DISCONNECT marker"] : [],
      ]);
    });

    await t.step(
      "publish and subscribe when not connected reject with BrokerDisconnectedError",
      async () => {
        const a = env.make("early", "");
        const host = new RecordingHost("early");
        const refused = () => [
          a.publish("INFO", undefined, bytes("x")),
          a.publish("REQ", "b", bytes("x")),
          a.publishBalancedRequest("svc.x", bytes("x")),
          a.publishBalancedEvent("ev", "grp", bytes("x")),
          a.subscribe("INFO"),
          a.subscribe("REQ", "early"),
          a.subscribeBalancedRequest("svc.x"),
          a.subscribeBalancedEvent("ev", "grp"),
        ];
        for (const p of refused()) {
          await assert.rejects(p, BrokerDisconnectedError);
        }
        await a.connect(host);
        await a.disconnect();
        await a.disconnect(); // idempotent
        assert.equal(a.connected, false);
        for (const p of refused()) {
          await assert.rejects(p, BrokerDisconnectedError);
        }
      },
    );

    await t.step(
      "a throwing receive is reported and delivery goes on",
      async () => {
        await using pool = new Pool(env);
        const a = await pool.connect("a");
        const b = await pool.connect("b");
        a.host.fail = (text) => text.startsWith("bad");
        await a.t.subscribe("EVENT", "a");
        await sync(a.t, a.host);
        for (const text of ["bad-1", "good-1", "bad-2", "good-2"]) {
          await b.t.publish("EVENT", "a", bytes(text));
        }
        await a.host.waitFor(2);
        await a.host.until("error", 2);
        const good = ["good-1", "good-2"];
        const bad = ["bad-1", "bad-2"];
        if (impl.broadcast) {
          // Broadcast too; the publisher's own copies are unaffected by a's failing receive.
          await a.t.subscribe("EVENT");
          await b.t.subscribe("EVENT");
          await Promise.all([sync(a.t, a.host), sync(b.t, b.host)]);
          for (const text of ["bad-3", "good-3"]) {
            await b.t.publish("EVENT", undefined, bytes(text));
          }
          good.push("good-3");
          bad.push("bad-3");
          await a.host.waitFor(3);
          await a.host.until("error", 3);
          await b.host.waitFor(2);
          assert.deepEqual(b.host.texts, ["bad-3", "good-3"]);
        }
        await barrier(b, a);
        assert.deepEqual(a.host.texts, good);
        assert.deepEqual(
          a.host.errors.map((e) => e.message),
          bad.map((t) => `receive refused '${t}'`),
        );
        assert.equal(a.t.connected, true);
      },
    );

    await t.step("keeps each publisher's order", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect("a");
      const b = await pool.connect("b");
      await b.t.subscribe("EVENT", "b");
      await b.t.subscribe("REQ", "b");
      if (impl.broadcast) await b.t.subscribe("HEARTBEAT");
      await sync(b.t, b.host);
      // Targeted packets of two types, and broadcast ones where they travel, interleaved.
      const kinds: [PacketType, string | undefined][] = [
        ["EVENT", "b"],
        ["REQ", "b"],
        ...impl.broadcast ? [["HEARTBEAT", undefined] as [PacketType, undefined]] : [],
      ];
      const N = 201;
      const expected: string[] = [];
      await Promise.all(
        Array.from({ length: N }, (_, i) => {
          const [type, target] = kinds[i % kinds.length]!;
          expected.push(`${type} ${i}`);
          return a.t.publish(type, target, bytes(String(i)));
        }),
      );
      await b.host.waitFor(N);
      await barrier(a, b);
      assertLines(b.host, expected);
    });
  });
}
