/**
 * Interop: a Deno broker and a real Moleculer node on the same non-JSON serializer, over NATS —
 * discovery, calls both ways with meta and errors, events both ways, and binary: a `Uint8Array`
 * sent from Deno is a `Buffer` to Node, a `Buffer` from Node is a `Uint8Array` here. One cluster
 * per serializer and Moleculer version (JSONExt exists in Moleculer 0.15 only).
 */

import assert from "node:assert/strict";
import { type Context, MoleculerClientError } from "../../mod.ts";
import { PeerCallError, requirePeers } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { deferred, IGNORE, startDeno, startPeer, VERSIONS } from "./_shared.ts";

type Rec = Record<string, unknown>;

const MATRIX: { serializer: string; versions: readonly string[] }[] = [
  { serializer: "JSONExt", versions: ["0.15"] },
  { serializer: "MsgPack", versions: ["0.14", "0.15"] },
  { serializer: "Notepack", versions: ["0.14", "0.15"] },
  { serializer: "CBOR", versions: ["0.14", "0.15"] },
];

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

for (const { serializer, versions } of MATRIX) {
  for (const v of VERSIONS.filter((v) => versions.includes(v.version))) {
    Deno.test({
      name: `interop Moleculer ${v.version} (protocol ${v.protocol}): serializer ${serializer}`,
      ignore: IGNORE,
      async fn(t) {
        requirePeers();
        await using nats = await startNatsServer();
        await using peer = await startPeer(nats, v, `node-${serializer}`, {
          services: ["nodemath", "listener", "binary"],
          brokerOptions: { serializer },
        });
        const fromNode = deferred<Rec>();
        await using deno = await startDeno({
          nodeID: `deno-${serializer}`,
          transporter: nats.url,
          protocolVersion: v.protocol,
          serializer,
          services: [{
            name: "denobin",
            actions: {
              hello(ctx: Context<Rec>) {
                const seen = { hi: ctx.params.name, meta: { ...ctx.meta } };
                ctx.meta.fromDeno = true;
                return seen;
              },
              fail() {
                throw new MoleculerClientError(
                  "deno bad thing",
                  418,
                  "TEAPOT",
                  { y: 2 },
                );
              },
              echoBinary(ctx: Context<{ blob: unknown }>) {
                const blob = ctx.params.blob;
                return {
                  echo: blob,
                  seen: blob instanceof Uint8Array &&
                    blob.constructor === Uint8Array,
                };
              },
            },
            events: {
              "node.binary"(ctx: Context<Rec>) {
                fromNode.resolve(ctx.params);
              },
            },
          }],
        });
        const { broker } = deno;

        await t.step("discovery both ways", async () => {
          await broker.waitForServices(["nodemath", "nodebinary"], 5000);
          await peer.waitForServices(["denobin"], 5000);
        });

        await t.step("calls both ways, with meta", async () => {
          const res = await broker.call("nodemath.echo", { a: 1, s: "héllo" }, {
            meta: { m: 1 },
          }) as Rec;
          assert.deepEqual(res.params, { a: 1, s: "héllo" });
          assert.deepEqual(res.meta, { m: 1 });
          const back = await peer.call("denobin.hello", { name: "node" }, {
            meta: { n: 2 },
          });
          assert.deepEqual(back.data, { hi: "node", meta: { n: 2 } });
          assert.equal(
            back.meta.fromDeno,
            true,
            "the response meta reaches the Node caller",
          );
        });

        await t.step("errors both ways", async () => {
          await assert.rejects(broker.call("nodemath.fail"), (err: unknown) => {
            assert.ok(err instanceof MoleculerClientError, String(err));
            assert.equal(err.code, 418);
            assert.equal(err.type, "TEAPOT");
            assert.deepEqual(err.data, { x: 1 });
            return true;
          });
          await assert.rejects(peer.call("denobin.fail"), (err: unknown) => {
            assert.ok(err instanceof PeerCallError, String(err));
            assert.equal(err.ctorName, "MoleculerClientError");
            assert.equal(err.code, 418);
            assert.deepEqual(err.data, { y: 2 });
            return true;
          });
        });

        await t.step(
          "binary from Deno is a Buffer in Node, and back a Uint8Array",
          async () => {
            const seen = await broker.call("nodebinary.inspect", {
              blob: new Uint8Array([0, 1, 254, 255]),
              nested: { blob: new Uint8Array(300).fill(7) },
            }) as Rec;
            assert.deepEqual(seen, {
              isBuffer: true,
              hex: "0001feff",
              nestedIsBuffer: true,
              nestedHex: "07".repeat(300),
            });
            const made = await broker.call("nodebinary.make", {
              text: "hello",
            });
            assert.ok(
              made instanceof Uint8Array && made.constructor === Uint8Array,
              String(made),
            );
            assert.deepEqual(made, new TextEncoder().encode("hello"));
          },
        );

        await t.step(
          "binary from Node is a Uint8Array in Deno, and back a Buffer",
          async () => {
            const res = await peer.call("nodebinary.roundTrip", {
              action: "denobin.echoBinary",
              hex: "00ff10",
            });
            assert.deepEqual(res.data, {
              isBuffer: true,
              hex: "00ff10",
              seen: true,
            });
          },
        );

        await t.step("events both ways, binary included", async () => {
          await broker.emit("user.created", {
            id: 7,
            blob: new Uint8Array([9, 8]),
          });
          const got = await peer.waitForEvent((e) => e.handler === "user.created");
          // The peer prints what its handler got as JSON: a Buffer shows as { type, data }.
          assert.deepEqual(got.data, {
            id: 7,
            blob: { type: "Buffer", data: [9, 8] },
          });
          assert.equal(got.nodeID, broker.nodeID);
          await peer.call("nodebinary.emitBinary", {
            event: "node.binary",
            hex: "cafe",
          });
          const params = await fromNode.promise;
          assert.ok(params.blob instanceof Uint8Array);
          assert.equal(hex(params.blob), "cafe");
        });

        assert.deepEqual(
          deno.logs.filter((l) => l.level === "warn" || l.level === "error")
            .map((l) => l.message),
          [],
          "nothing was dropped or refused",
        );
      },
    });
  }
}
