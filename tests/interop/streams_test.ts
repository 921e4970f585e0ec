/**
 * Interop: streams between a Deno broker and a real Moleculer node over NATS, under Moleculer's
 * default JSON serializer (chunks travel as Buffer JSON) — request streams both ways (0.15's
 * `ctx.stream`, 0.14's stream-as-params), response streams both ways, object mode, an error in
 * the middle both ways, and the peer killed in the middle of two streams. One cluster per version.
 *
 * The upload through moleculer-web belongs to the gateway's tests.
 */

import assert from "node:assert/strict";
import { type Context, type MoleculerError, RequestRejectedError } from "../../mod.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { bytes, sha256 } from "../streams/_bytes.ts";
import { interopTest, startDeno, startPeer, waitFor } from "./_shared.ts";

type Rec = Record<string, unknown>;

interface Drained {
  size: number;
  objects: unknown[];
  sha?: string;
  error: string | null;
  type?: string | null;
  params?: unknown;
  meta?: Rec;
}

interopTest("streams both ways", async (t, v) => {
  await using nats = await startNatsServer();
  await using peer = await startPeer(nats, v, "node-streams", {
    services: ["streams"],
  });
  const runs: string[] = [];
  const brokenInDeno: unknown[] = [];
  let denoSourceCancelled: unknown;
  await using deno = await startDeno({
    nodeID: "deno-streams",
    transporter: nats.url,
    protocolVersion: v.protocol,
    heartbeatTimeout: 3,
    services: [{
      name: "denostreams",
      actions: {
        async digest(ctx: Context<Rec>) {
          runs.push(ctx.id);
          const stream = ctx.stream!;
          // Moleculer 0.14 gives the stream as the params; so does this node under protocol 4.
          if (v.protocol === "4") assert.equal(ctx.params, stream);
          const chunks: Uint8Array[] = [];
          try {
            for await (const c of stream) chunks.push(c);
          } catch (err) {
            brokenInDeno.push(err);
            const e = err as MoleculerError;
            return {
              error: e.message,
              type: e.type,
              size: chunks.reduce((n, c) => n + c.length, 0),
            };
          }
          const all = new Uint8Array(
            await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer(),
          );
          return {
            size: all.byteLength,
            sha: await sha256(all),
            params: v.protocol === "5" ? ctx.params : null,
            meta: { ...ctx.meta },
          };
        },
        async objects(ctx: Context) {
          return await Array.fromAsync(ctx.stream as ReadableStream<unknown>);
        },
        download(ctx: Context<{ size: number; failAt?: number }>) {
          const data = bytes(ctx.params.size, 11);
          const failAt = ctx.params.failAt;
          if (failAt === undefined) return ReadableStream.from([data]);
          let pulls = 0;
          return new ReadableStream({
            pull(c) {
              if (pulls++ === 0) c.enqueue(data.subarray(0, failAt));
              else c.error(new Error("deno source broke"));
            },
          });
        },
        async *rows() {
          for (let i = 0; i < 3; i++) yield { row: i };
        },
      },
    }],
  });
  const { broker } = deno;
  await broker.waitForServices("nodestreams", 5000);
  await peer.waitForServices("denostreams", 5000);

  await t.step(
    "Node → Deno request stream: bytes and sha256 equal, the handler runs once",
    async () => {
      const size = 1_000_003;
      const { data } = await peer.call("nodestreams.upload", {
        action: "denostreams.digest",
        size,
        seed: 3,
      });
      const { res, sha } = data as { res: Rec; sha: string };
      assert.equal(res.size, size);
      assert.equal(res.sha, sha);
      assert.equal(sha, await sha256(bytes(size, 3)));
      if (v.protocol === "5") {
        assert.deepEqual(res.params, { name: "from-node" });
      }
      assert.equal((res.meta as Rec).up, 1);
      assert.equal(runs.length, 1, `the handler ran ${runs.length} times`);
    },
  );

  await t.step(
    "Deno → Node request stream (cut to 256 KiB chunks)",
    async () => {
      const data = bytes(700_001, 5);
      const res = await broker.call<Drained>("nodestreams.digest", {
        name: "from-deno",
      }, {
        stream: ReadableStream.from([data]),
        meta: { who: "deno" },
      });
      assert.equal(res.error, null);
      assert.equal(res.size, data.byteLength);
      assert.equal(res.sha, await sha256(data));
      if (v.protocol === "5") {
        assert.deepEqual(res.params, { name: "from-deno" });
      }
      assert.equal(res.meta?.who, "deno");
    },
  );

  await t.step("Node action returning a stream to Deno", async () => {
    const meta: Rec = {};
    const stream = await broker.call<ReadableStream<Uint8Array>>(
      "nodestreams.download",
      { size: 600_000, seed: 9 },
      { meta },
    );
    assert.equal(await sha256(stream), await sha256(bytes(600_000, 9)));
    assert.equal(meta.download, true);
  });

  await t.step("Deno action returning a stream to Node", async () => {
    const { data } = await peer.call("nodestreams.fetch", {
      action: "denostreams.download",
      params: { size: 800_000 },
    });
    const res = data as Drained;
    assert.equal(res.error, null);
    assert.equal(res.size, 800_000);
    assert.equal(res.sha, await sha256(bytes(800_000, 11)));
  });

  await t.step("object-mode streams, four ways", async () => {
    const rows = [{ a: 1 }, { b: "two" }, { c: [3] }];
    const up = await peer.call("nodestreams.upload", {
      action: "denostreams.objects",
      objects: rows,
    });
    assert.deepEqual((up.data as Rec).res, rows);
    const down = await broker.call<Drained>("nodestreams.digest", {}, {
      stream: ReadableStream.from(rows),
    });
    assert.deepEqual(down.objects, rows);
    const fromNode = await broker.call<ReadableStream<unknown>>(
      "nodestreams.download",
      {
        objects: rows,
      },
    );
    assert.deepEqual(await Array.fromAsync(fromNode), rows);
    const { data } = await peer.call("nodestreams.fetch", {
      action: "denostreams.rows",
    });
    assert.deepEqual((data as Drained).objects, [{ row: 0 }, { row: 1 }, {
      row: 2,
    }]);
  });

  await t.step(
    "an error in the middle ends the stream with it, both ways",
    async () => {
      // Node's source fails: the Deno handler's ctx.stream fails with Node's error.
      const up = await peer.call("nodestreams.upload", {
        action: "denostreams.digest",
        size: 300_000,
        chunk: 50_000,
        failAt: 100_000,
      });
      const res = (up.data as Rec).res as Rec;
      assert.equal(res.type, "NODE_SOURCE_BROKE");
      assert.equal(res.size, 100_000);
      // Deno's source fails: the Node handler's stream fails with it.
      let n = 0;
      const broken = new ReadableStream<Uint8Array>({
        pull(c) {
          if (n++ < 2) c.enqueue(bytes(10_000, n));
          else c.error(new Error("deno upload broke"));
        },
      });
      const down = await broker.call<Drained>("nodestreams.digest", {}, {
        stream: broken,
      });
      assert.equal(down.error, "deno upload broke");
      assert.equal(down.size, 20_000);
      // A response stream that fails on the Node side, read here.
      const stream = await broker.call<ReadableStream<Uint8Array>>(
        "nodestreams.download",
        {
          size: 300_000,
          chunk: 50_000,
          failAt: 100_000,
        },
      );
      await assert.rejects(
        new Response(stream).arrayBuffer(),
        (err: MoleculerError) => err.type === "NODE_SOURCE_BROKE" && err.code === 422,
      );
      // A response stream that fails on the Deno side, read by Node.
      const { data } = await peer.call("nodestreams.fetch", {
        action: "denostreams.download",
        params: { size: 100_000, failAt: 40_000 },
      });
      assert.equal((data as Drained).error, "deno source broke");
      assert.equal((data as Drained).size, 40_000);
    },
  );

  await t.step(
    "the peer killed in the middle: both streams fail typed, nothing is left",
    async () => {
      brokenInDeno.length = 0;
      // Node uploads to Deno without end, and Deno sends to Node without end.
      void peer.call("nodestreams.upload", {
        action: "denostreams.digest",
        endless: true,
        chunk: 1000,
        delayMs: 20,
      }).catch(() => {});
      const endless = new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 20));
          c.enqueue(bytes(1000));
        },
        cancel(reason) {
          denoSourceCancelled = reason;
        },
      });
      const upload = broker.call("nodestreams.digest", {}, { stream: endless })
        .then(
          () => null,
          (err) => err,
        );
      const download = await broker.call<ReadableStream<Uint8Array>>(
        "nodestreams.download",
        {
          endless: true,
          chunk: 1000,
          delayMs: 20,
        },
      );
      const reading = new Response(download).arrayBuffer().then(
        () => null,
        (err) => err,
      );
      await waitFor(
        () => broker.transit!.streamCount === 3,
        "three streams to flow",
        5000,
      );
      await peer.kill();
      assert.ok(
        await reading instanceof RequestRejectedError,
        "the download fails",
      );
      assert.ok(
        await upload instanceof RequestRejectedError,
        "the upload's call fails",
      );
      assert.ok(
        denoSourceCancelled instanceof RequestRejectedError,
        String(denoSourceCancelled),
      );
      await waitFor(
        () => brokenInDeno.length === 1,
        "the Deno handler's stream to fail",
      );
      assert.ok(
        brokenInDeno[0] instanceof RequestRejectedError,
        String(brokenInDeno[0]),
      );
      await waitFor(
        () =>
          broker.transit!.streamCount === 0 &&
          broker.transit!.pendingCount === 0,
        "every stream and call to be freed",
      );
    },
  );
});
