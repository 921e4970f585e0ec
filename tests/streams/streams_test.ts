/**
 * Streams between Denolecular nodes on the memory bus: request and response streams (bytes
 * whole, cut to `maxChunkSize`, under JSON and a binary serializer), object mode, an error in the
 * middle, a cancelled reader, flow control with a slow reader, a caller timeout and a lost node —
 * and in every case nothing is left: no pending call, no stream, no timer (`--trace-leaks`).
 */

import assert from "node:assert/strict";
import {
  type Context,
  MoleculerError,
  RequestRejectedError,
  RequestTimeoutError,
} from "../../mod.ts";
import { MemoryTransporter } from "../../src/transporters/memory.ts";
import { type DenoNode, type DenoNodeOptions, startDeno, waitFor } from "../transit/_util.ts";
import { bytes, sha256 } from "./_bytes.ts";

/** A fresh bus group per test. */
const bus = () => `stream-${crypto.randomUUID()}`;

async function node(
  group: string | MemoryTransporter,
  nodeID: string,
  extra: DenoNodeOptions = {},
): Promise<DenoNode> {
  return await startDeno({
    transporter: typeof group === "string" ? `memory://${group}` : group,
    nodeID,
    ...extra,
    registry: { stopDelay: 10, ...extra.registry },
    transit: { discoverWaitTime: 30, ...extra.transit },
  });
}

/** A source of `count` chunks of `size` bytes that records how far it was read and cancelled. */
function counted(count: number, size: number) {
  const state = { pulled: 0, cancelled: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (state.pulled === count) return c.close();
      c.enqueue(bytes(size, state.pulled++));
    },
    cancel(reason) {
      state.cancelled = reason ?? "cancelled";
    },
  }, { highWaterMark: 0 });
  return { state, stream };
}

/** Both nodes settled: no pending call, no stream. */
async function drained(...nodes: DenoNode[]): Promise<void> {
  await waitFor(
    () =>
      nodes.every((n) =>
        n.broker.transit!.pendingCount === 0 &&
        n.broker.transit!.streamCount === 0
      ),
    "no pending call and no stream left",
  );
}

const sink = {
  name: "sink",
  actions: {
    async digest(ctx: Context<{ name?: string }>) {
      const data = new Uint8Array(await new Response(ctx.stream).arrayBuffer());
      return {
        name: ctx.params.name,
        size: data.byteLength,
        sha: await sha256(data),
      };
    },
    async objects(ctx: Context) {
      const seen: unknown[] = [];
      for await (const o of ctx.stream as ReadableStream<unknown>) seen.push(o);
      return seen;
    },
    async failing(ctx: Context) {
      let size = 0;
      try {
        for await (const c of ctx.stream!) size += c.byteLength;
      } catch (err) {
        return {
          size,
          error: (err as MoleculerError).message,
          type: (err as MoleculerError).type,
        };
      }
      return { size, error: null };
    },
    async firstOnly(ctx: Context) {
      const reader = ctx.stream!.getReader();
      const first = await reader.read();
      await reader.cancel();
      return first.value?.byteLength ?? 0;
    },
  },
};

const source = {
  name: "source",
  actions: {
    bytes(ctx: Context<{ size: number }>) {
      return ReadableStream.from([bytes(ctx.params.size)]);
    },
    async *generated(ctx: Context<{ n: number }>) {
      for (let i = 0; i < ctx.params.n; i++) yield { i, text: `row ${i}` };
    },
    failing() {
      let n = 0;
      return new ReadableStream<Uint8Array>({
        pull(c) {
          if (n++ < 2) c.enqueue(bytes(1000, n));
          else {c.error(
              new MoleculerError("disk on fire", 507, "DISK_FIRE", { at: 2 }),
            );}
        },
      });
    },
  },
};

for (const serializer of ["JSON", "MsgPack"]) {
  Deno.test(`streams (${serializer}): a request stream arrives whole and once, cut to maxChunkSize`, async () => {
    const group = bus();
    const runs: string[] = [];
    await using b = await node(group, "b", {
      serializer,
      services: [{
        ...sink,
        hooks: { before: { digest: (ctx: Context) => void runs.push(ctx.id) } },
      }],
    });
    await using a = await node(group, "a", {
      serializer,
      transit: { maxChunkSize: 4096 },
    });
    await a.broker.waitForServices("sink", 2000);
    const data = bytes(100_000);
    const res = await a.broker.call("sink.digest", { name: "f.bin" }, {
      stream: ReadableStream.from([
        data.subarray(0, 30_000),
        data.subarray(30_000),
      ]),
    });
    assert.deepEqual(res, {
      name: "f.bin",
      size: 100_000,
      sha: await sha256(data),
    });
    assert.equal(runs.length, 1);
    await drained(a, b);
  });

  Deno.test(`streams (${serializer}): a response stream, bytes and objects`, async () => {
    const group = bus();
    await using b = await node(group, "b", { serializer, services: [source] });
    await using a = await node(group, "a", { serializer });
    await a.broker.waitForServices("source", 2000);
    const stream = await a.broker.call<ReadableStream<Uint8Array>>(
      "source.bytes",
      {
        size: 600_000,
      },
    );
    assert.ok(stream instanceof ReadableStream);
    assert.equal(await sha256(stream), await sha256(bytes(600_000)));
    const rows = await a.broker.call<ReadableStream<unknown>>(
      "source.generated",
      { n: 5 },
    );
    const seen = await Array.fromAsync(rows);
    assert.deepEqual(
      seen,
      [0, 1, 2, 3, 4].map((i) => ({ i, text: `row ${i}` })),
    );
    await drained(a, b);
  });
}

Deno.test("streams: an object-mode request stream, and bytes as a Uint8Array source", async () => {
  const group = bus();
  await using b = await node(group, "b", { services: [sink] });
  await using a = await node(group, "a", { transit: { maxChunkSize: 1000 } });
  await a.broker.waitForServices("sink", 2000);
  async function* rows() {
    yield { id: 1 };
    yield "two";
    yield [3];
  }
  assert.deepEqual(
    await a.broker.call("sink.objects", {}, {
      stream: ReadableStream.from([{ id: 1 }, "two", [3]]),
    }),
    [{ id: 1 }, "two", [3]],
  );
  assert.deepEqual(
    await a.broker.call("sink.objects", {}, { stream: rows() }),
    [
      { id: 1 },
      "two",
      [3],
    ],
  );
  const data = bytes(5_500);
  const res = await a.broker.call<{ size: number; sha: string }>(
    "sink.digest",
    {},
    {
      stream: data,
    },
  );
  assert.equal(res.size, 5_500);
  assert.equal(res.sha, await sha256(data));
  await drained(a, b);
});

Deno.test("streams: an error in the middle reaches the other side as the stream's error", async () => {
  const group = bus();
  await using b = await node(group, "b", { services: [sink, source] });
  await using a = await node(group, "a");
  await a.broker.waitForServices(["sink", "source"], 2000);
  // Request stream: the caller's source fails after two chunks.
  let n = 0;
  const broken = new ReadableStream<Uint8Array>({
    pull(c) {
      if (n++ < 2) c.enqueue(bytes(100, n));
      else c.error(new MoleculerError("source broke", 500, "SOURCE_BROKE"));
    },
  });
  assert.deepEqual(
    await a.broker.call("sink.failing", {}, { stream: broken }),
    {
      size: 200,
      error: "source broke",
      type: "SOURCE_BROKE",
    },
  );
  // Response stream: the caller reads two chunks, then the error, typed.
  const stream = await a.broker.call<ReadableStream<Uint8Array>>(
    "source.failing",
  );
  let size = 0;
  await assert.rejects(
    async () => {
      for await (const c of stream) size += c.byteLength;
    },
    (err: MoleculerError) => err.type === "DISK_FIRE" && err.code === 507 && err.nodeID === "b",
  );
  assert.equal(size, 2000);
  await drained(a, b);
});

Deno.test("streams: a cancelled reader stops the flow and the sender sees it, both ways", async () => {
  const group = bus();
  const served = counted(10_000, 1000);
  await using b = await node(group, "b", {
    services: [sink, {
      name: "endless",
      actions: { get: () => served.stream },
    }],
  });
  await using a = await node(group, "a");
  await a.broker.waitForServices(["sink", "endless"], 2000);
  // The handler reads one chunk and cancels: the caller's source is cancelled, long before its end.
  const sent = counted(10_000, 1000);
  assert.equal(
    await a.broker.call("sink.firstOnly", {}, { stream: sent.stream }),
    1000,
  );
  await waitFor(
    () => sent.state.cancelled !== undefined,
    "the caller's source to be cancelled",
  );
  assert.equal(
    (sent.state.cancelled as MoleculerError).type,
    "STREAM_CANCELLED",
  );
  assert.ok(sent.state.pulled < 10_000, `${sent.state.pulled} chunks read`);
  // The caller cancels a response stream: the serving node's source is cancelled.
  const stream = await a.broker.call<ReadableStream<Uint8Array>>("endless.get");
  const reader = stream.getReader();
  await reader.read();
  await reader.cancel();
  await waitFor(
    () => served.state.cancelled !== undefined,
    "the action's source to be cancelled",
  );
  assert.ok(served.state.pulled < 10_000, `${served.state.pulled} chunks read`);
  await drained(a, b);
});

Deno.test("streams: a slow reader holds the sender back (flow control), and nothing is lost", async () => {
  const group = bus();
  const maxStreamBuffer = 64 * 1024;
  const source = counted(200, 4096);
  let read = 0;
  let worst = 0;
  await using b = await node(group, "b", {
    transit: { maxStreamBuffer },
    services: [{
      name: "slow",
      actions: {
        async take(ctx: Context) {
          for await (const c of ctx.stream!) {
            read += c.byteLength;
            worst = Math.max(worst, source.state.pulled * 4096 - read);
            await new Promise((r) => setTimeout(r, 1));
          }
          return read;
        },
      },
    }],
  });
  await using a = await node(group, "a", { transit: { maxStreamBuffer } });
  await a.broker.waitForServices("slow", 2000);
  assert.equal(
    await a.broker.call("slow.take", {}, { stream: source.stream }),
    200 * 4096,
  );
  // In flight: at most half the reader's buffer (the window), a chunk, and what the pipes hold.
  assert.ok(
    worst <= maxStreamBuffer,
    `the sender ran ${worst} bytes ahead of the reader`,
  );
  await drained(a, b);
});

Deno.test("streams: a caller timeout ends the stream with RequestTimeoutError on both sides", async () => {
  const group = bus();
  const seen: unknown[] = [];
  await using b = await node(group, "b", {
    services: [{
      name: "hang",
      actions: {
        async take(ctx: Context) {
          try {
            for await (const _ of ctx.stream!) { /* keep reading */ }
          } catch (err) {
            seen.push(err);
          }
          return null;
        },
      },
    }],
  });
  await using a = await node(group, "a");
  await a.broker.waitForServices("hang", 2000);
  // The source gives one chunk and then nothing: only the timeout ends it.
  let cancelled: unknown;
  const stalled = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes(10));
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  await assert.rejects(
    a.broker.call("hang.take", {}, { stream: stalled, timeout: 200 }),
    RequestTimeoutError,
  );
  assert.ok(cancelled instanceof RequestTimeoutError, String(cancelled));
  await waitFor(() => seen.length > 0, "the handler's stream to fail");
  assert.ok(seen[0] instanceof RequestTimeoutError, String(seen[0]));
  await drained(a, b);
});

Deno.test("streams: a node lost in the middle fails its streams with RequestRejectedError", async () => {
  const group = bus();
  const crashed = new MemoryTransporter(group);
  const beat = { heartbeatInterval: 0.2, heartbeatTimeout: 1 };
  const served = counted(1_000_000, 100);
  await using b = await node(crashed, "b", {
    ...beat,
    services: [{ name: "endless", actions: { get: () => served.stream } }],
  });
  await using a = await node(group, "a", beat);
  await a.broker.waitForServices("endless", 2000);
  const stream = await a.broker.call<ReadableStream<Uint8Array>>("endless.get");
  const reader = stream.getReader();
  await reader.read();
  await crashed.disconnect(); // gone without a word
  await assert.rejects(async () => {
    for (;;) if ((await reader.read()).done) break;
  }, RequestRejectedError);
  await waitFor(
    () => a.broker.transit!.streamCount === 0,
    "a's stream to be freed",
  );
  await b.broker.stop();
  assert.equal(b.broker.transit!.streamCount, 0);
});

Deno.test("streams: a local call hands the stream to the action as it is", async () => {
  await using a = await startDeno({ nodeID: "solo", services: [sink] });
  const data = bytes(3000);
  const res = await a.broker.call<{ sha: string }>("sink.digest", {}, {
    stream: ReadableStream.from([data]),
  });
  assert.equal(res.sha, await sha256(data));
});

Deno.test("streams: a streamed call is not retried (a stream is read once)", async () => {
  const group = bus();
  let runs = 0;
  await using b = await node(group, "b", {
    services: [{
      name: "flaky",
      actions: {
        async take(ctx: Context) {
          runs++;
          await ctx.stream!.cancel();
          throw new RequestTimeoutError({ action: "flaky.take", nodeID: "b" });
        },
      },
    }],
  });
  await using a = await node(group, "a", { retryPolicy: { enabled: true, retries: 3, delay: 1 } });
  await a.broker.waitForServices("flaky", 2000);
  await assert.rejects(
    a.broker.call("flaky.take", {}, { stream: ReadableStream.from([bytes(10)]) }),
    RequestTimeoutError,
  );
  assert.equal(runs, 1);
  await drained(a, b);
});
