/**
 * One conformance suite, run against every transporter implementation. A new transporter joins
 * by adding an entry to `IMPLEMENTATIONS`.
 */

import assert from "node:assert/strict";
import { BrokerDisconnectedError } from "../../src/errors.ts";
import { MemoryTransporter } from "../../src/transporters/memory.ts";
import { NatsTransporter } from "../../src/transporters/nats/nats.ts";
import type { Transporter } from "../../src/transporters/transporter.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { bytes, Inbox, RecordingListener, sync } from "./_util.ts";

/** Makes connected-ready transporters that can talk to each other. */
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

/** Connects transporters for one step and disconnects them all at its end. */
class Pool implements AsyncDisposable {
  readonly #all: Transporter[] = [];
  constructor(readonly env: Environment) {}

  async connect(listener = new RecordingListener()): Promise<Transporter> {
    const t = this.env.make();
    this.#all.push(t);
    await t.connect(listener);
    return t;
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
      await tr.connect({});
      try {
        assert.equal(tr.connected, true);
        const max = tr.maxPayload;
        assert.ok(max === undefined || (Number.isInteger(max) && max > 0));
      } finally {
        await tr.disconnect();
      }
      assert.equal(tr.connected, false);
    });

    await t.step("publish/subscribe on an exact subject", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect();
      const inbox = new Inbox();
      a.subscribe("exact.one", inbox.handler);
      await a.publish("exact.one", bytes("hello"));
      await a.publish("exact.one.two", bytes("deeper"));
      await a.publish("exact.onex", bytes("longer"));
      await a.publish("exact", bytes("shorter"));
      await a.publish("exact.one", bytes("last"));
      await inbox.waitFor(2);
      assert.deepEqual(inbox.messages, [
        { subject: "exact.one", text: "hello" },
        { subject: "exact.one", text: "last" },
      ]);
    });

    await t.step("'*' matches one token and '>' the rest", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect();
      const star = new Inbox();
      const tail = new Inbox();
      const mid = new Inbox();
      a.subscribe("w.*.end", star.handler);
      a.subscribe("w.>", tail.handler);
      a.subscribe("w.*.*", mid.handler);
      for (const s of ["w.a.end", "w.a.b.end", "w.a", "w", "x.a.end", "w.b.end"]) {
        await a.publish(s, bytes(s));
      }
      await star.waitFor(2);
      await tail.waitFor(4);
      await mid.waitFor(2);
      assert.deepEqual(star.subjects, ["w.a.end", "w.b.end"]);
      assert.deepEqual(tail.subjects, ["w.a.end", "w.a.b.end", "w.a", "w.b.end"]);
      assert.deepEqual(mid.subjects, ["w.a.end", "w.b.end"]);
      assert.deepEqual(star.texts, star.subjects);
    });

    await t.step("a queue group gets each message exactly once", async () => {
      await using pool = new Pool(env);
      const publisher = await pool.connect();
      const w1 = await pool.connect();
      const w2 = await pool.connect();
      const watcher = await pool.connect();
      const in1 = new Inbox();
      const in2 = new Inbox();
      const both = new Inbox();
      const all = new Inbox();
      w1.subscribe("q.work", tee(in1, both), "workers");
      w2.subscribe("q.work", tee(in2, both), "workers");
      watcher.subscribe("q.work", all.handler);
      await Promise.all([sync(w1), sync(w2), sync(watcher)]);

      const N = 60;
      for (let i = 0; i < N; i++) await publisher.publish("q.work", bytes(String(i)));
      await all.waitFor(N);
      await both.waitFor(N);
      await Promise.all([sync(w1), sync(w2)]);

      const got = [...in1.texts, ...in2.texts].map(Number).sort((x, y) => x - y);
      assert.deepEqual(got, Array.from({ length: N }, (_, i) => i), "each message exactly once");
      assert.ok(in1.messages.length > 0, "first member got some");
      assert.ok(in2.messages.length > 0, "second member got some");
      assert.deepEqual(all.texts, Array.from({ length: N }, (_, i) => String(i)));
    });

    await t.step("two independent connections talk to each other", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect();
      const b = await pool.connect();
      const replies = new Inbox();
      a.subscribe("talk.a", replies.handler);
      b.subscribe("talk.b", (data) => {
        void b.publish("talk.a", bytes(`pong:${new TextDecoder().decode(data)}`));
      });
      await Promise.all([sync(a), sync(b)]);
      await a.publish("talk.b", bytes("ping"));
      await replies.waitFor(1);
      assert.deepEqual(replies.messages, [{ subject: "talk.a", text: "pong:ping" }]);
    });

    await t.step("unsubscribe stops delivery", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect();
      const inbox = new Inbox();
      const marker = new Inbox();
      const sub = a.subscribe("unsub.x", inbox.handler);
      a.subscribe("unsub.marker", marker.handler);
      await a.publish("unsub.x", bytes("1"));
      await inbox.waitFor(1);
      sub.unsubscribe();
      sub.unsubscribe(); // idempotent
      await a.publish("unsub.x", bytes("2"));
      await a.publish("unsub.marker", bytes("done"));
      await marker.waitFor(1);
      assert.deepEqual(inbox.texts, ["1"]);
    });

    await t.step(
      "publish and subscribe after disconnect throw BrokerDisconnectedError",
      async () => {
        const a = env.make();
        await assert.rejects(a.publish("early", bytes("x")), BrokerDisconnectedError);
        assert.throws(() => a.subscribe("early", () => {}), BrokerDisconnectedError);
        await a.connect({});
        await a.disconnect();
        await a.disconnect(); // idempotent
        assert.equal(a.connected, false);
        await assert.rejects(a.publish("late", bytes("x")), BrokerDisconnectedError);
        assert.throws(() => a.subscribe("late", () => {}), BrokerDisconnectedError);
      },
    );

    await t.step("a throwing handler does not stop the others", async () => {
      const listener = new RecordingListener();
      await using pool = new Pool(env);
      const a = await pool.connect(listener);
      const b = await pool.connect();
      const inA = new Inbox();
      const inB = new Inbox();
      a.subscribe("boom", () => {
        throw new Error("handler exploded");
      });
      a.subscribe("boom", () => Promise.reject(new Error("async handler exploded")));
      a.subscribe("boom", inA.handler);
      b.subscribe("boom", inB.handler);
      await Promise.all([sync(a), sync(b)]);
      await b.publish("boom", bytes("1"));
      await b.publish("boom", bytes("2"));
      await inA.waitFor(2);
      await inB.waitFor(2);
      await listener.until("error", 4);
      assert.deepEqual(inA.texts, ["1", "2"]);
      assert.deepEqual(inB.texts, ["1", "2"]);
      const messages = listener.errors.map((e) => e.message).sort();
      assert.deepEqual(messages, [
        "async handler exploded",
        "async handler exploded",
        "handler exploded",
        "handler exploded",
      ]);
      assert.equal(a.connected, true);
    });

    await t.step("keeps each publisher's order", async () => {
      await using pool = new Pool(env);
      const a = await pool.connect();
      const b = await pool.connect();
      const inbox = new Inbox();
      b.subscribe("order.>", inbox.handler);
      await sync(b);
      const N = 200;
      await Promise.all(
        Array.from({ length: N }, (_, i) => a.publish(`order.${i % 3}`, bytes(String(i)))),
      );
      await inbox.waitFor(N);
      assert.deepEqual(inbox.texts, Array.from({ length: N }, (_, i) => String(i)));
    });
  });
}

/** A handler feeding two inboxes. */
function tee(a: Inbox, b: Inbox): (data: Uint8Array, subject: string) => void {
  return (data, subject) => {
    a.handler(data, subject);
    b.handler(data, subject);
  };
}
