/**
 * One conformance suite, run against every transporter implementation. A new transporter joins
 * by adding an entry to `IMPLEMENTATIONS`.
 *
 * It checks the contract as transit uses it: packets by type, broadcast or for one node;
 * namespaces kept apart; balanced request and event queues (`disableBalancer`), event patterns
 * included; unsubscribing; the disconnected state; a failing `receive`; per-publisher order.
 */

import assert from "node:assert/strict";
import { BrokerDisconnectedError } from "../../src/errors.ts";
import { MemoryTransporter } from "../../src/transporters/memory.ts";
import { NatsTransporter } from "../../src/transporters/nats/nats.ts";
import type { Transporter } from "../../src/transporters/transporter.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { bytes, RecordingHost, sync } from "./_util.ts";

/** Makes transporters that can talk to each other. */
interface Environment extends AsyncDisposable {
  make(): Transporter;
}

interface Implementation {
  name: string;
  setup(): Promise<Environment>;
}

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: "Memory",
    setup() {
      const group = `conformance-${crypto.randomUUID()}`;
      return Promise.resolve({
        make: () => new MemoryTransporter(group),
        [Symbol.asyncDispose]: () => Promise.resolve(),
      });
    },
  },
  {
    name: "NATS",
    async setup() {
      const server = await startNatsServer();
      return {
        make: () => new NatsTransporter({ servers: server.url, reconnectTimeWait: 50 }),
        [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
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
  constructor(readonly env: Environment) {}

  async connect(nodeID: string, namespace = ""): Promise<Node> {
    const t = this.env.make();
    const host = new RecordingHost(nodeID, namespace);
    this.#all.push(t);
    await t.connect(host);
    return { t, host };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#all.map((t) => t.disconnect()));
  }
}

for (const impl of IMPLEMENTATIONS) {
  Deno.test(`Transporter conformance: ${impl.name}`, async (t) => {
    await using env = await impl.setup();

    await t.step("reports its name, balancer support and connection state", async () => {
      const tr = env.make();
      assert.equal(typeof tr.name, "string");
      assert.equal(tr.hasBuiltInBalancer, true);
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
    });

    await t.step("delivers packets by type: broadcast, and only those for this node", async () => {
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
      await a.t.publish("REQ", "z", bytes("req-for-nobody"));
      await a.t.publish("REQ", "b", bytes("req-for-b-again"));
      await b.host.waitFor(3);
      await c.host.waitFor(2);
      await Promise.all([sync(b.t, b.host), sync(c.t, c.host)]);
      assert.deepEqual(b.host.lines, ["REQ req-for-b", "INFO info-for-all", "REQ req-for-b-again"]);
      assert.deepEqual(c.host.lines, ["INFO info-for-all", "INFO info-for-c"]);
      assert.deepEqual(a.host.received, [], "a subscribed to nothing");
    });

    await t.step("namespaces never see each other", async () => {
      await using pool = new Pool(env);
      const plain = await pool.connect("n");
      const alpha = await pool.connect("n", "alpha");
      const beta = await pool.connect("n", "beta");
      for (const n of [plain, alpha, beta]) {
        await n.t.subscribe("HEARTBEAT");
        await n.t.subscribe("REQ", "n");
        await n.t.subscribeBalancedRequest("svc.act");
      }
      await Promise.all([plain, alpha, beta].map((n) => sync(n.t, n.host)));
      await alpha.t.publish("HEARTBEAT", undefined, bytes("alpha-beat"));
      await beta.t.publish("REQ", "n", bytes("beta-req"));
      await plain.t.publishBalancedRequest("svc.act", bytes("plain-call"));
      await alpha.host.waitFor(1);
      await beta.host.waitFor(1);
      await plain.host.waitFor(1);
      await Promise.all([plain, alpha, beta].map((n) => sync(n.t, n.host)));
      assert.deepEqual(alpha.host.lines, ["HEARTBEAT alpha-beat"]);
      assert.deepEqual(beta.host.lines, ["REQ beta-req"]);
      assert.deepEqual(plain.host.lines, ["REQ plain-call"]);
    });

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

        const got = [...w1.host.texts, ...w2.host.texts].map(Number).sort((x, y) => x - y);
        assert.deepEqual(got, Array.from({ length: N }, (_, i) => i), "each request exactly once");
        assert.ok(w1.host.received.length > 0, "the first member got some");
        assert.ok(w2.host.received.length > 0, "the second member got some");
        for (const n of [w1, w2, other]) {
          assert.ok(n.host.received.every((r) => r.type === "REQ"), "balanced requests are REQs");
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
        await star.t.subscribeBalancedEvent("user.*", "audit");
        await deep.t.subscribeBalancedEvent("order.**", "billing");
        await Promise.all([m1, m2, star, deep].map((n) => sync(n.t, n.host)));

        const N = 20;
        for (let i = 0; i < N; i++) {
          await emitter.t.publishBalancedEvent("user.created", "mail", bytes(`mail-${i}`));
        }
        await emitter.t.publishBalancedEvent("user.created", "audit", bytes("audit-created"));
        await emitter.t.publishBalancedEvent("user.name.changed", "audit", bytes("audit-deeper"));
        await emitter.t.publishBalancedEvent("order.paid", "billing", bytes("billing-1"));
        await emitter.t.publishBalancedEvent("order.line.added", "billing", bytes("billing-2"));
        await emitter.t.publishBalancedEvent("order.paid", "mail", bytes("mail-other-event"));
        await waitForTotal([m1.host, m2.host], N);
        await star.host.waitFor(1);
        await deep.host.waitFor(2);
        await Promise.all([m1, m2, star, deep].map((n) => sync(n.t, n.host)));

        const mails = [...m1.host.texts, ...m2.host.texts].sort();
        assert.deepEqual(mails, Array.from({ length: N }, (_, i) => `mail-${i}`).sort());
        assert.ok(m1.host.received.length > 0 && m2.host.received.length > 0, "both members");
        assert.deepEqual(star.host.lines, ["EVENT audit-created"], "'*' is one segment");
        assert.deepEqual(deep.host.lines, ["EVENT billing-1", "EVENT billing-2"], "'**' the rest");
      },
    );

    await t.step("unsubscribe stops delivery, and is idempotent", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect("a");
      const plain = await a.t.subscribe("EVENT", "a");
      const balanced = await a.t.subscribeBalancedRequest("svc.x");
      await a.t.subscribe("DISCONNECT");
      await a.t.publish("EVENT", "a", bytes("1"));
      await a.t.publishBalancedRequest("svc.x", bytes("2"));
      await a.host.waitFor(2);
      plain.unsubscribe();
      plain.unsubscribe();
      balanced.unsubscribe();
      balanced.unsubscribe();
      await a.t.publish("EVENT", "a", bytes("3"));
      await a.t.publishBalancedRequest("svc.x", bytes("4"));
      await a.t.publish("DISCONNECT", undefined, bytes("marker"));
      await a.host.waitFor(3);
      assert.deepEqual(a.host.texts, ["1", "2", "marker"]);
    });

    await t.step(
      "publish and subscribe when not connected reject with BrokerDisconnectedError",
      async () => {
        const a = env.make();
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
        for (const p of refused()) await assert.rejects(p, BrokerDisconnectedError);
        await a.connect(host);
        await a.disconnect();
        await a.disconnect(); // idempotent
        assert.equal(a.connected, false);
        for (const p of refused()) await assert.rejects(p, BrokerDisconnectedError);
      },
    );

    await t.step("a throwing receive is reported and delivery goes on", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect("a");
      const b = await pool.connect("b");
      a.host.fail = (text) => text.startsWith("bad");
      await a.t.subscribe("EVENT");
      await b.t.subscribe("EVENT");
      await Promise.all([sync(a.t, a.host), sync(b.t, b.host)]);
      for (const text of ["bad-1", "good-1", "bad-2", "good-2"]) {
        await b.t.publish("EVENT", undefined, bytes(text));
      }
      await a.host.waitFor(2);
      await b.host.waitFor(4);
      await a.host.until("error", 2);
      assert.deepEqual(a.host.texts, ["good-1", "good-2"]);
      assert.deepEqual(b.host.texts, ["bad-1", "good-1", "bad-2", "good-2"]);
      assert.deepEqual(a.host.errors.map((e) => e.message), [
        "receive refused 'bad-1'",
        "receive refused 'bad-2'",
      ]);
      assert.equal(a.t.connected, true);
    });

    await t.step("keeps each publisher's order", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect("a");
      const b = await pool.connect("b");
      await b.t.subscribe("EVENT", "b");
      await b.t.subscribe("HEARTBEAT");
      await sync(b.t, b.host);
      const N = 200;
      await Promise.all(
        Array.from(
          { length: N },
          (_, i) =>
            i % 2
              ? a.t.publish("EVENT", "b", bytes(String(i)))
              : a.t.publish("HEARTBEAT", undefined, bytes(String(i))),
        ),
      );
      await b.host.waitFor(N);
      assert.deepEqual(
        b.host.texts,
        Array.from({ length: N }, (_, i) => String(i)),
      );
    });
  });
}

/** Resolves once the hosts together have received `n` packets. */
async function waitForTotal(hosts: RecordingHost[], n: number, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (hosts.reduce((sum, h) => sum + h.received.length, 0) < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} packets in all`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
