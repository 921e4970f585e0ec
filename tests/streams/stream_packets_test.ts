/**
 * The packets of a stream, as Moleculer 0.15 sends them, played by a raw client on the memory
 * bus: a request stream (its first packet, chunks, end) runs the handler once; a response stream
 * never resolves a call to `null` with its chunks dropped.
 */

import assert from "node:assert/strict";
import type { Context } from "../../mod.ts";
import { MemoryBusClient } from "../../src/transporters/memory_bus.ts";
import { startDeno, waitFor } from "../transit/_util.ts";

type Rec = Record<string, unknown>;

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (p: Rec) => enc.encode(JSON.stringify({ ver: "5", sender: "fake", ...p }));
/** A Node Buffer under the JSON serializer. */
const buffer = (text: string) => ({
  type: "Buffer",
  data: [...enc.encode(text)],
});

function streamRequest(id: string): Rec[] {
  const base = {
    id,
    action: "sink.take",
    meta: {},
    headers: {},
    timeout: 0,
    level: 1,
    tracing: null,
    parentID: null,
    requestID: id,
    caller: null,
  };
  return [
    { ...base, params: { name: "a.txt" }, stream: true, seq: 0 },
    { ...base, params: buffer("hello "), stream: true, seq: 1 },
    { ...base, params: buffer("world"), stream: true, seq: 2 },
    { ...base, params: null, stream: false, seq: 3 },
  ];
}

Deno.test("stream packets: a request stream runs its handler once and gets an answer", async () => {
  const group = `stream-${crypto.randomUUID()}`;
  let runs = 0;
  await using deno = await startDeno({
    nodeID: "deno",
    transporter: `memory://${group}`,
    transit: { discoverWaitTime: 20 },
    services: [{
      name: "sink",
      actions: {
        async take(ctx: Context<Rec>) {
          runs++;
          const text = await new Response(ctx.stream).text();
          return { name: ctx.params.name, text };
        },
      },
    }],
  });
  const raw = new MemoryBusClient(group);
  await raw.connect();
  try {
    const responses: Rec[] = [];
    raw.subscribe(
      "MOL.RES.fake",
      (data) => void responses.push(JSON.parse(dec.decode(data))),
    );
    for (const p of streamRequest("s-1")) {
      await raw.publish("MOL.REQ.deno", json(p));
    }
    await waitFor(() => responses.length > 0, "the response");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(runs <= 1, true, `the handler ran ${runs} times`);
    assert.equal(responses.length, 1, JSON.stringify(responses));
    assert.equal(responses[0]!.id, "s-1");
    assert.deepEqual(responses[0]!.data, {
      name: "a.txt",
      text: "hello world",
    });
  } finally {
    await raw.disconnect();
  }
  assert.equal(deno.broker.transit!.pendingCount, 0);
});

Deno.test("stream packets: a response stream is never a silent null", async () => {
  const group = `stream-${crypto.randomUUID()}`;
  const raw = new MemoryBusClient(group);
  await raw.connect();
  try {
    raw.subscribe("MOL.REQ.fake", (data) => {
      const req = JSON.parse(dec.decode(data));
      const base = { id: req.id, meta: {}, headers: {}, success: true };
      for (
        const p of [
          { ...base, data: null, stream: true, seq: 0 },
          { ...base, data: buffer("chunk"), stream: true, seq: 1 },
          { ...base, data: null, stream: false, seq: 2 },
        ]
      ) void raw.publish("MOL.RES.deno", json(p));
    });
    raw.subscribe("MOL.DISCOVER", () => {
      void raw.publish(
        "MOL.INFO",
        json({
          services: [{
            name: "source",
            settings: {},
            metadata: {},
            actions: { "source.get": { name: "source.get" } },
            events: {},
          }],
          ipList: [],
          hostname: "x",
          client: { type: "nodejs", version: "0.15.2", langVersion: "v22" },
          config: {},
          instanceID: "fake-1",
          metadata: {},
          seq: 1,
        }),
      );
    });
    await using deno = await startDeno({
      nodeID: "deno",
      transporter: `memory://${group}`,
      transit: { discoverWaitTime: 20 },
    });
    await deno.broker.waitForServices("source", 2000);
    const result = await deno.broker.call("source.get", {}, { timeout: 2000 })
      .then(
        (v) => ({ value: v }),
        (e) => ({ error: e as Error }),
      );
    assert.ok(
      "value" in result && result.value instanceof ReadableStream,
      String(result),
    );
    assert.equal(await new Response(result.value).text(), "chunk");
    assert.equal(deno.broker.transit!.streamCount, 0);
  } finally {
    await raw.disconnect();
  }
});

/** A Deno node serving `sink.take` and a raw client playing a Moleculer 0.15 caller. */
async function rawCaller(
  take: (ctx: Context<Rec>) => unknown,
  transit: Record<string, number> = {},
) {
  const group = `stream-${crypto.randomUUID()}`;
  const deno = await startDeno({
    nodeID: "deno",
    transporter: `memory://${group}`,
    transit: { discoverWaitTime: 20, ...transit },
    services: [{ name: "sink", actions: { take } }],
  });
  const raw = new MemoryBusClient(group);
  await raw.connect();
  const responses: Rec[] = [];
  raw.subscribe(
    "MOL.RES.fake",
    (data) => void responses.push(JSON.parse(dec.decode(data))),
  );
  return {
    deno,
    responses,
    send: (p: Rec) => raw.publish("MOL.REQ.deno", json(p)),
    async [Symbol.asyncDispose]() {
      await raw.disconnect();
      await deno.broker.stop();
    },
  };
}

Deno.test("stream packets: chunks that come out of order are put back in seq order", async () => {
  await using c = await rawCaller(async (ctx) => await new Response(ctx.stream).text());
  const [first, hello, world, end] = streamRequest("s-2");
  for (const p of [end!, world!, first!, hello!]) await c.send(p);
  await waitFor(() => c.responses.length > 0, "the response");
  assert.equal(c.responses[0]!.data, "hello world");
  await waitFor(
    () => c.deno.broker.transit!.streamCount === 0,
    "the stream to be freed",
  );
});

Deno.test("stream packets: a sender that outruns the reader past maxStreamBuffer fails the stream", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await using c = await rawCaller(async (ctx) => {
    await gate;
    try {
      await new Response(ctx.stream).arrayBuffer();
      return "read";
    } catch (err) {
      return (err as { type?: string }).type;
    }
  }, { maxStreamBuffer: 4096 });
  const base = streamRequest("s-3")[0]!;
  await c.send(base);
  // A Moleculer sender never waits: ten chunks of 1000 bytes are more than the 4096 allowed.
  for (let seq = 1; seq <= 10; seq++) {
    await c.send({
      ...base,
      seq,
      params: { type: "Buffer", data: new Array(1000).fill(seq) },
    });
  }
  await c.send({ ...base, seq: 11, stream: false, params: null });
  release();
  await waitFor(() => c.responses.length > 0, "the response");
  assert.equal(c.responses[0]!.data, "STREAM_BUFFER_FULL");
  await waitFor(
    () => c.deno.broker.transit!.streamCount === 0,
    "the stream to be freed",
  );
});

Deno.test("stream packets: a malformed seq is dropped with a warning, the node goes on", async () => {
  await using c = await rawCaller(() => "ran", {});
  await c.send({ ...streamRequest("s-4")[0]!, seq: "zero" });
  await waitFor(
    () => c.deno.logs.some((l) => /seq/.test(l.message)),
    "a warning",
  );
  assert.equal(c.responses.length, 0);
  await c.send(streamRequest("s-5")[0]!);
  await waitFor(() => c.responses.length > 0, "the next request's response");
});
