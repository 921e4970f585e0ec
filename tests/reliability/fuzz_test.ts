/**
 * Fuzzing over a real nats-server: at least 100 000 packets — mutations of packets captured
 * between real nodes (byte-level and JSON-level), random JSON and random bytes — are published
 * on a Denolecular node's subjects by a separate NATS client. The node runs in its own process
 * (`_responder.ts`, with `--expose-gc`) so that its heap is measured after a full GC, apart from
 * the test's own allocations. Afterwards the node still answers, a newcomer can call it, the
 * log was not flooded, and the heap is back near where it started.
 *
 * `FUZZ_SEED` and `FUZZ_CASES` (environment) replay or scale a run; the seed is printed.
 */

import assert from "node:assert/strict";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { RawClient, report, sleep, spawnResponder, startNode, waitFor } from "./_util.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20_240_611);
const CASES = Number(Deno.env.get("FUZZ_CASES") ?? 100_000);
const BATCH = 500;

/** A small seeded PRNG (mulberry32): the same seed gives the same packets. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const TARGET = "target";
const TARGET_SUBJECTS = [
  `MOL.EVENT.${TARGET}`,
  `MOL.REQ.${TARGET}`,
  `MOL.RES.${TARGET}`,
  "MOL.DISCOVER",
  `MOL.DISCOVER.${TARGET}`,
  "MOL.INFO",
  `MOL.INFO.${TARGET}`,
  "MOL.DISCONNECT",
  "MOL.HEARTBEAT",
  "MOL.PING",
  `MOL.PING.${TARGET}`,
  `MOL.PONG.${TARGET}`,
];
const KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "sender",
  "ver",
  "id",
  "action",
  "params",
  "meta",
  "headers",
  "timeout",
  "level",
  "event",
  "data",
  "groups",
  "broadcast",
  "services",
  "actions",
  "events",
  "name",
  "instanceID",
  "seq",
  "success",
  "error",
  "time",
  "cpu",
  "stream",
];
const SENDERS = [
  TARGET,
  "caller",
  "temp",
  "ghost",
  "a b",
  "x.>",
  "",
  "n".repeat(600),
];

class Fuzzer {
  readonly #rnd: () => number;
  readonly #corpus: { subject: string; text: string; json: unknown }[];
  readonly #te = new TextEncoder();

  constructor(seed: number, corpus: { subject: string; data: Uint8Array }[]) {
    this.#rnd = prng(seed);
    const td = new TextDecoder();
    this.#corpus = corpus.map(({ subject, data }) => {
      const text = td.decode(data);
      return { subject: retarget(subject), text, json: JSON.parse(text) };
    });
  }

  #int(n: number): number {
    return Math.floor(this.#rnd() * n);
  }

  #pick<T>(list: readonly T[]): T {
    return list[this.#int(list.length)]!;
  }

  #string(): string {
    const n = this.#int(3) === 0 ? this.#int(20_000) : this.#int(40);
    let s = "";
    if (n > 100) {
      return this.#pick(["x", "é", "\u0000", "\ud800", "💥"]).repeat(n);
    }
    for (let i = 0; i < n; i++) {
      s += String.fromCharCode(
        this.#int(3) ? 32 + this.#int(95) : this.#int(0x3000),
      );
    }
    return s;
  }

  #value(depth = 0): unknown {
    switch (this.#int(11)) {
      case 0:
        return null;
      case 1:
        return this.#rnd() < 0.5;
      case 2:
        return this.#pick([
          0,
          -1,
          1,
          2 ** 31,
          2 ** 53,
          -(2 ** 53),
          1e308,
          -1e308,
          0.5,
        ]);
      case 3:
        return this.#int(1000);
      case 4:
        return this.#string();
      case 5:
        return this.#pick([
          "",
          "5",
          "4",
          "math.add",
          "math.echo",
          "$node.list",
          TARGET,
          "user.x",
        ]);
      case 6:
        return depth > 3 ? [] : Array.from({ length: this.#int(4) }, () => this.#value(depth + 1));
      case 7: {
        if (depth > 3) return {};
        const o: Record<string, unknown> = {};
        for (let i = this.#int(4); i > 0; i--) {
          setOwn(o, this.#pick(KEYS), this.#value(depth + 1));
        }
        return o;
      }
      case 8: {
        const deep = this.#int(2000);
        let v: unknown = 1;
        for (let i = 0; i < deep; i++) v = this.#rnd() < 0.5 ? [v] : { a: v };
        return v;
      }
      case 9:
        return JSON.parse(
          '{"__proto__": {"polluted": "fuzz"}, "constructor": {"prototype": {"polluted": "fuzz"}}}',
        );
      default:
        return [this.#pick(KEYS)];
    }
  }

  /** A random container (object or array) inside `root`, or `root` itself. */
  #container(root: unknown): Record<string, unknown> | unknown[] | undefined {
    let node: unknown = root;
    let last: Record<string, unknown> | unknown[] | undefined;
    for (let d = 0; d < 6; d++) {
      if (typeof node !== "object" || node === null) break;
      last = node as Record<string, unknown>;
      const keys = Object.keys(node);
      if (!keys.length || this.#int(3) === 0) break;
      node = (node as Record<string, unknown>)[this.#pick(keys)];
    }
    return last;
  }

  #mutateJson(json: unknown): unknown {
    const root = structuredClone(json) as Record<string, unknown>;
    const ops = 1 + this.#int(3);
    for (let i = 0; i < ops; i++) {
      const c = this.#container(root);
      if (!c) break;
      const keys = Object.keys(c);
      const key = keys.length ? this.#pick(keys) : "0";
      switch (this.#int(7)) {
        case 0:
        case 1:
          setOwn(c as Record<string, unknown>, key, this.#value());
          break;
        case 2:
          delete (c as Record<string, unknown>)[key];
          break;
        case 3:
          setOwn(c as Record<string, unknown>, this.#pick(KEYS), this.#value());
          break;
        case 4:
          root.sender = this.#pick(SENDERS);
          break;
        case 5:
          root.ver = this.#pick(["4", "6", 5, null, "5"]);
          break;
        default:
          if (typeof root.instanceID === "string") {
            root.instanceID = `fuzz-${this.#int(4)}`;
          } else {setOwn(
              c as Record<string, unknown>,
              key,
              (c as Record<string, unknown>)[this.#pick(keys) ?? key],
            );}
      }
    }
    return root;
  }

  #mutateBytes(text: string): Uint8Array {
    let b = Array.from(this.#te.encode(text));
    const ops = 1 + this.#int(4);
    for (let i = 0; i < ops && b.length; i++) {
      const at = this.#int(b.length);
      switch (this.#int(7)) {
        case 0:
          b[at] = b[at]! ^ (1 << this.#int(8));
          break;
        case 1:
          b[at] = this.#int(256);
          break;
        case 2:
          b[at] = this.#pick([
            0x22,
            0x7b,
            0x7d,
            0x5b,
            0x5d,
            0x2c,
            0x3a,
            0x5c,
            0x00,
            0xff,
            0x39,
          ]);
          break;
        case 3:
          b.splice(
            at,
            0,
            ...Array.from({ length: 1 + this.#int(16) }, () => this.#int(256)),
          );
          break;
        case 4:
          b.splice(at, 1 + this.#int(32));
          break;
        case 5:
          b.splice(at, 0, ...b.slice(this.#int(b.length), this.#int(b.length)));
          break;
        default:
          b = b.slice(0, at);
      }
    }
    return Uint8Array.from(b);
  }

  /** The next packet: a subject and its bytes. */
  next(): { subject: string; data: Uint8Array } {
    const r = this.#rnd();
    const src = this.#pick(this.#corpus);
    const subject = this.#rnd() < 0.85 ? src.subject : this.#pick(TARGET_SUBJECTS);
    if (r < 0.35) return { subject, data: this.#mutateBytes(src.text) };
    if (r < 0.8) {
      return {
        subject,
        data: this.#te.encode(JSON.stringify(this.#mutateJson(src.json))),
      };
    }
    if (r < 0.9) {
      return {
        subject: this.#pick(TARGET_SUBJECTS),
        data: Uint8Array.from(
          { length: this.#int(2000) },
          () => this.#int(256),
        ),
      };
    }
    const v = this.#rnd() < 0.5
      ? this.#value()
      : { ...(this.#value() as object), ver: "5", sender: this.#pick(SENDERS) };
    return {
      subject: this.#pick(TARGET_SUBJECTS),
      data: this.#te.encode(JSON.stringify(v) ?? ""),
    };
  }
}

/** Store as an own property (also `__proto__`), so that JSON.stringify writes it. */
function setOwn(
  o: Record<string, unknown> | unknown[],
  key: string,
  value: unknown,
): void {
  Object.defineProperty(o, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Packets captured towards another node are replayed at the target. */
function retarget(subject: string): string {
  const parts = subject.split(".");
  return parts.length === 3 ? `${parts[0]}.${parts[1]}.${TARGET}` : subject;
}

Deno.test({
  name: `fuzz: ${CASES} random and mutated packets; the node keeps serving, heap and log bounded`,
  async fn() {
    await using nats = await startNatsServer();
    await using _target = await spawnResponder({
      url: nats.url,
      nodeID: TARGET,
      heartbeatInterval: 0.5,
      heartbeatTimeout: 2,
    });
    await using caller = await startNode(nats.url, "caller", [], {
      heartbeatTimeout: 2,
    });
    await caller.broker.waitForServices(["math", "diag"], 5000, 10);
    await using raw = await RawClient.connect(nats.url, "fuzzer");
    const diag = <T>(action: string) =>
      caller.broker.call<T>(`diag.${action}`, {}, {
        nodeID: TARGET,
        timeout: 10_000,
      });

    // 1. Capture real traffic: calls, errors, events, pings, discovery, a node joining and leaving.
    const wire = raw.record("MOL.>");
    await raw.flush(TARGET); // the subscription is active on the server
    await raw.send("MOL.DISCOVER", {});
    for (let i = 0; i < 3; i++) {
      await caller.broker.call("math.add", { a: i, b: 1 });
    }
    await caller.broker.call("math.echo", { x: [1, "a"] }, {
      meta: { user: 7 },
      headers: { h: 1 },
    });
    await caller.broker.call("math.slow", { ms: 1, n: 1 });
    await caller.broker.call("math.add", { a: "x" }).catch(() => {});
    await caller.broker.call("$node.list", {}, { nodeID: TARGET });
    await caller.broker.emit("user.created", { id: 1 });
    await caller.broker.broadcast("user.updated", { id: 1 });
    await caller.broker.ping(TARGET);
    {
      await using _temp = await startNode(nats.url, "temp", [{
        name: "temp",
        actions: { x: () => 1 },
        events: { "user.*": () => {} },
      }]);
      await waitFor(
        () => caller.broker.registry.actions.has("temp.x"),
        "temp.x",
      );
    }
    await sleep(700); // heartbeats
    const corpus = wire.filter((p) =>
      !new TextDecoder().decode(p.data).includes('"sender":"fuzzer"')
    );
    const types = new Set(corpus.map((p) => p.subject.split(".")[1]));
    report(
      "captured packets (corpus)",
      `${corpus.length}, types ${[...types].sort().join(" ")}`,
    );
    assert.ok(types.size >= 8, [...types].join());

    // 2. Heap of the target after a full GC, before.
    const before = await diag<Deno.MemoryUsage & { gc: boolean }>("memory");
    assert.equal(before.gc, true, "the responder runs with --expose-gc");

    // 3. Fuzz, in batches: each batch ends with a PING that returns once the target handled it.
    const fuzzer = new Fuzzer(SEED, corpus);
    const t0 = performance.now();
    let bytes = 0;
    for (let i = 0; i < CASES; i++) {
      const { subject, data } = fuzzer.next();
      bytes += data.length;
      await raw.raw(subject, data);
      if (i % BATCH === BATCH - 1) await raw.flush(TARGET, 30_000);
    }
    await raw.flush(TARGET, 30_000);
    const secs = (performance.now() - t0) / 1000;
    report(
      "fuzz seed / cases / MB sent",
      `${SEED} / ${CASES} / ${(bytes / 1e6).toFixed(1)}`,
    );
    report(
      "fuzz duration (s) and rate (packets/s)",
      `${secs.toFixed(1)}, ${Math.round(CASES / secs)}`,
    );

    // 4. The target still answers: a raw request, a newcomer's calls (the old caller's view of
    //    the target may have been rewritten by forged INFOs: an unauthenticated bus cannot tell).
    const direct = await raw.request(TARGET, "math.add", {
      params: { a: 20, b: 22 },
    }, 10_000);
    assert.equal(direct.data, 42, JSON.stringify(direct));
    {
      await using verifier = await startNode(nats.url, "verifier");
      await verifier.broker.waitForServices("math", 5000, 10);
      for (let i = 0; i < 100; i++) {
        assert.equal(
          await verifier.broker.call("math.add", { a: i, b: 1 }, {
            nodeID: TARGET,
            timeout: 5000,
          }),
          i + 1,
        );
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);

    // 5. Let fake nodes time out (heartbeatTimeout 2 s), then measure the heap again.
    await sleep(4500);
    const after = await diag<Deno.MemoryUsage>("memory");
    const nodes = await diag<Record<string, number>>("nodes");
    const logs = await diag<
      { byLevel: Record<string, number>; top: [string, number][] }
    >("logs");
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    report(
      "target heapUsed before / after (MB, after full GC)",
      `${mb(before.heapUsed)} / ${mb(after.heapUsed)}`,
    );
    report(
      "target rss before / after (MB)",
      `${mb(before.rss)} / ${mb(after.rss)}`,
    );
    report("target registry after fuzz", nodes);
    report("target log records by level", logs.byLevel);
    report("target most frequent log lines", logs.top.slice(0, 6));
    report("caller log records by level", caller.logs.byLevel);
    assert.ok(
      after.heapUsed - before.heapUsed < 50 * 1024 * 1024,
      `heap grew by ${mb(after.heapUsed - before.heapUsed)} MB`,
    );
    const warnings = (logs.byLevel.warn ?? 0) + (logs.byLevel.error ?? 0);
    assert.ok(
      warnings < CASES / 100,
      `${warnings} warnings for ${CASES} packets`,
    );
    assert.equal(logs.byLevel.fatal ?? 0, 0);
    assert.ok(
      caller.logs.atLeast("warn") < CASES / 100,
      JSON.stringify(caller.logs.top()),
    );
    assert.ok(caller.broker.started);
  },
});
