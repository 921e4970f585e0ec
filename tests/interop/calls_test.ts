/**
 * Interop: action calls between a Deno broker and a real Moleculer node over NATS — params,
 * meta and response meta, v5 headers, errors both ways, caller timeouts, and context
 * propagation (level, requestID, parentID, caller) across nodes.
 */

import assert from "node:assert/strict";
import {
  type Context,
  type MiddlewareHooks,
  MoleculerClientError,
  RequestTimeoutError,
  ServiceNotFoundError,
  ValidationError,
} from "../../mod.ts";
import { connect } from "../../src/transporters/nats/deno_transport.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { PeerCallError } from "../_helpers/moleculer_peer.ts";
import { describeCtx, interopTest, startDeno, startPeer, timed, waitFor } from "./_shared.ts";

type Rec = Record<string, unknown>;

/** Rejection check for a peer call: the Node side rebuilt an error of class `ctorName`. */
function nodeSaw(ctorName: string, check?: (err: PeerCallError) => void) {
  return (err: unknown) => {
    assert.ok(err instanceof PeerCallError, `a PeerCallError, got ${err}`);
    assert.equal(err.ctorName, ctorName, `${err.name}: ${err.message}`);
    check?.(err);
    return true;
  };
}

interopTest(
  "calls: params, meta, headers, errors, timeouts, context propagation",
  async (t, v) => {
    await using nats = await startNatsServer();
    await using peer = await startPeer(nats, v, "node-c");

    let slowRunning = 0;
    const outgoing: Context[] = [];
    const capture: MiddlewareHooks = {
      name: "capture-outgoing",
      remoteAction: (next) => (ctx) => {
        outgoing.push(ctx);
        return next(ctx);
      },
    };
    await using deno = await startDeno({
      nodeID: "deno-c",
      transporter: nats.url,
      protocolVersion: v.protocol,
      middlewares: [capture],
      services: [
        {
          name: "denoapi",
          actions: {
            whoami(ctx: Context<Rec>) {
              const seen = {
                params: ctx.params,
                meta: { ...ctx.meta },
                ...describeCtx(ctx),
              };
              ctx.meta.fromDeno = true;
              return seen;
            },
            headers(ctx: Context<Rec>) {
              ctx.responseHeaders.rh = "from-deno";
              return { headers: ctx.headers };
            },
            fail(ctx: Context) {
              ctx.meta.failedOn = "deno";
              throw new MoleculerClientError("deno bad thing", 418, "TEAPOT", {
                y: 2,
              });
            },
            validated: {
              params: { n: "number" },
              handler: (ctx: Context<{ n: number }>) => ctx.params.n,
            },
            crash() {
              throw new Error("plain crash");
            },
            missing: (ctx: Context) => ctx.call("nowhere.action", {}),
            slow: {
              params: { ms: "number" },
              async handler(ctx: Context<{ ms: number }>) {
                slowRunning++;
                try {
                  await new Promise((r) => setTimeout(r, ctx.params.ms));
                  return { waited: ctx.params.ms };
                } finally {
                  slowRunning--;
                }
              },
            },
            ctxinfo: (ctx: Context) => ({
              ...describeCtx(ctx),
              meta: { ...ctx.meta },
            }),
          },
        },
        {
          name: "denoctx",
          version: 2,
          actions: {
            async callEcho(ctx: Context) {
              const echo = await ctx.call("nodemath.echo", { from: "deno" });
              return { self: describeCtx(ctx), echo };
            },
          },
        },
      ],
    });
    const broker = deno.broker;
    await broker.waitForServices(["nodemath", "v2.greeter"], 5000);
    await peer.waitForServices(["denoapi", "v2.denoctx"], 5000);

    await t.step(
      "Deno → Node: params, meta out, response meta merged back",
      async () => {
        assert.equal(await broker.call("nodemath.add", { a: 2, b: 3 }), 5);
        const meta: Rec = { m: 1, nested: { k: [1, 2] } };
        const echo = await broker.call<Rec>("nodemath.echo", { x: 1 }, {
          meta,
        });
        assert.deepEqual(echo.params, { x: 1 });
        assert.deepEqual(echo.meta, { m: 1, nested: { k: [1, 2] } });
        assert.equal(echo.nodeID, "deno-c");
        assert.equal(echo.level, 1);
        assert.equal(echo.parentID, null);
        assert.equal(echo.caller, null);
        assert.equal(echo.requestID, echo.id, "a root call: requestID = id");
        assert.deepEqual(meta, { m: 1, nested: { k: [1, 2] }, fromNode: true });
      },
    );

    await t.step(
      "Node → Deno: params, meta out, Deno's ctx.meta changes come back",
      async () => {
        const res = await peer.call("denoapi.whoami", { y: 2 }, {
          meta: { n: 1 },
        });
        assert.equal(res.nodeID, "deno-c");
        assert.deepEqual(res.meta, { n: 1, fromDeno: true });
        const seen = res.data as Rec;
        assert.deepEqual(seen.params, { y: 2 });
        assert.deepEqual(seen.meta, { n: 1 });
        assert.equal(seen.nodeID, "node-c");
        assert.equal(seen.level, 1);
        assert.equal(seen.requestID, seen.id);
        assert.equal(seen.parentID, null);
      },
    );

    await t.step(
      "headers: Node → Deno (v5), and on the wire Deno → Node",
      async () => {
        const res = await peer.call("denoapi.headers", {}, {
          headers: { h: "from-node" },
        });
        const seen = (res.data as Rec).headers;
        // 0.14 has no headers: nothing travels.
        assert.deepEqual(seen, v.protocol === "5" ? { h: "from-node" } : {});

        // What Deno puts on the wire: REQ headers to Node, RES headers (responseHeaders) back.
        const sniffer = await connect({
          servers: nats.url.replace(/^nats:\/\//, ""),
        });
        try {
          const packets: Rec[] = [];
          const keep = {
            callback: (_err: unknown, m: { json(): Rec }) => void packets.push(m.json()),
          };
          sniffer.subscribe("MOL.REQ.node-c", keep);
          sniffer.subscribe("MOL.RES.node-c", keep);
          await sniffer.flush(); // the server has the subscriptions
          await broker.call("nodemath.add", { a: 1, b: 1 }, {
            headers: { trace: "abc" },
          });
          await peer.call("denoapi.headers", {}, { headers: { h: 1 } });
          const req = await waitFor(
            () => packets.find((p) => p.action === "nodemath.add" && p.sender === "deno-c"),
            "the sniffed REQ",
          );
          const res2 = await waitFor(
            () => packets.find((p) => p.success === true && p.sender === "deno-c"),
            "the sniffed RES",
          );
          assert.equal(req.ver, v.protocol);
          if (v.protocol === "5") {
            assert.deepEqual(req.headers, { trace: "abc" });
            assert.deepEqual(res2.headers, { rh: "from-deno" });
          } else {
            assert.ok(!("headers" in req), "no headers key in a v4 REQ");
            assert.ok(!("headers" in res2), "no headers key in a v4 RES");
          }
        } finally {
          await sniffer.drain();
        }
      },
    );

    await t.step(
      "Node errors arrive in Deno as the right classes",
      async () => {
        await assert.rejects(
          broker.call("nodemath.fail", {}),
          (err: unknown) => {
            assert.ok(err instanceof MoleculerClientError, String(err));
            assert.equal(err.name, "MoleculerClientError");
            assert.equal(err.message, "bad thing");
            assert.equal(err.code, 418);
            assert.equal(err.type, "TEAPOT");
            assert.deepEqual(err.data, { x: 1 });
            assert.equal(err.retryable, false);
            assert.equal(err.nodeID, "node-c");
            return true;
          },
        );
        await assert.rejects(
          broker.call("nodemath.add", { a: "x", b: 1 }),
          (err: unknown) => {
            assert.ok(err instanceof ValidationError, String(err));
            assert.ok(err instanceof MoleculerClientError);
            assert.equal(err.code, 422);
            assert.equal(err.type, "VALIDATION_ERROR");
            assert.equal(err.nodeID, "node-c");
            const data = err.data as Rec[];
            assert.ok(Array.isArray(data));
            assert.equal(data[0]?.field, "a");
            assert.equal(data[0]?.type, "number");
            return true;
          },
        );
        // A ServiceNotFoundError raised inside a Node handler crosses the wire.
        await assert.rejects(
          broker.call("nodemath.relay", { action: "nowhere.action" }),
          (err: unknown) => {
            assert.ok(err instanceof ServiceNotFoundError, String(err));
            assert.equal(err.code, 404);
            assert.equal((err.data as Rec).action, "nowhere.action");
            assert.equal(err.nodeID, "node-c");
            return true;
          },
        );
        // An action nobody serves fails locally.
        await assert.rejects(
          broker.call("nodemath.nope", {}),
          ServiceNotFoundError,
        );
        await assert.rejects(
          broker.call("nodemath.add", { a: 1, b: 1 }, {
            nodeID: "no-such-node",
          }),
          ServiceNotFoundError,
        );
      },
    );

    await t.step(
      "Deno errors arrive in Node as the right classes",
      async () => {
        await assert.rejects(
          peer.call("denoapi.fail", {}, { meta: { m: 1 } }),
          nodeSaw("MoleculerClientError", (err) => {
            // The handler's meta changes travel back with the error, as in Moleculer.
            assert.deepEqual(err.meta, { m: 1, failedOn: "deno" });
            assert.equal(err.name, "MoleculerClientError");
            assert.equal(err.message, "deno bad thing");
            assert.equal(err.code, 418);
            assert.equal(err.type, "TEAPOT");
            assert.deepEqual(err.data, { y: 2 });
            assert.equal(err.retryable, false);
            assert.equal(err.nodeID, "deno-c");
          }),
        );
        await assert.rejects(
          peer.call("denoapi.validated", { n: "x" }),
          nodeSaw("ValidationError", (err) => {
            assert.equal(err.code, 422);
            assert.equal(err.type, "VALIDATION_ERROR");
            assert.equal(err.nodeID, "deno-c");
            const data = err.data as Rec[];
            assert.ok(Array.isArray(data));
            assert.equal(data[0]?.field, "n");
          }),
        );
        await assert.rejects(
          peer.call("denoapi.missing", {}),
          nodeSaw("ServiceNotFoundError", (err) => {
            assert.equal(err.code, 404);
            assert.equal((err.data as Rec).action, "nowhere.action");
            assert.equal(err.nodeID, "deno-c");
          }),
        );
        await assert.rejects(
          peer.call("denoapi.crash", {}),
          (err: unknown) => {
            assert.ok(err instanceof PeerCallError);
            // Not a Moleculer class: Node rebuilds a plain Error with the fields.
            assert.equal(err.ctorName, "Error");
            assert.equal(err.name, "Error");
            assert.equal(err.message, "plain crash");
            assert.equal(err.nodeID, "deno-c");
            return true;
          },
        );
        await assert.rejects(
          peer.call("denoapi.nope", {}),
          nodeSaw("ServiceNotFoundError"),
        );
      },
    );

    await t.step("caller timeout: Deno → Node slow action", async () => {
      const r = await timed(
        broker.call("nodemath.slow", { ms: 500 }, { timeout: 100 }),
      );
      assert.ok(r.error instanceof RequestTimeoutError, String(r.error));
      assert.equal((r.error.data as Rec).action, "nodemath.slow");
      assert.equal((r.error.data as Rec).nodeID, "node-c");
      assert.ok(r.ms >= 90 && r.ms < 450, `rejected after ${r.ms} ms`);
      assert.equal(broker.transit!.pendingCount, 0);
      // The late response is an orphan: ignored. The node still answers.
      assert.equal(await broker.call("nodemath.add", { a: 1, b: 2 }), 3);
    });

    await t.step("caller timeout: Node → Deno slow action", async () => {
      const r = await timed(
        peer.call("denoapi.slow", { ms: 400 }, { timeout: 100 }),
      );
      assert.ok(r.error, "rejected");
      nodeSaw("RequestTimeoutError")(r.error);
      assert.ok(r.ms < 390, `rejected after ${r.ms} ms`);
      await waitFor(() => slowRunning === 0, "the Deno slow handler to finish");
    });

    await t.step(
      "context: Deno → Node → Deno (nodemath.relay calls back)",
      async () => {
        outgoing.length = 0;
        const seen = await broker.call<Rec>("nodemath.relay", {
          action: "denoapi.ctxinfo",
        }, {
          meta: { trace: "t1" },
        });
        const root = outgoing.find((c) => c.action?.name === "nodemath.relay");
        assert.ok(root, "the root call was captured");
        assert.equal(seen.level, 2);
        assert.equal(seen.requestID, root.requestID);
        assert.equal(seen.requestID, root.id, "the root's requestID is its id");
        // Node's relay context took the REQ's id, so the parent of the callback is the root id.
        assert.equal(seen.parentID, root.id);
        assert.equal(seen.caller, "nodemath");
        assert.equal(seen.nodeID, "node-c");
        assert.deepEqual(seen.meta, { trace: "t1" });
      },
    );

    await t.step("context: Deno action → Node echo via ctx.call", async () => {
      const { self, echo } = await broker.call<{ self: Rec; echo: Rec }>(
        "v2.denoctx.callEcho",
      );
      assert.equal(self.level, 1);
      assert.equal(echo.level, 2);
      assert.equal(echo.parentID, self.id);
      assert.equal(echo.requestID, self.requestID);
      assert.equal(echo.caller, "v2.denoctx");
      assert.equal(echo.nodeID, "deno-c");
      assert.deepEqual(echo.params, { from: "deno" });
    });

    await t.step(
      "context: Node → Deno → Node keeps Node's requestID",
      async () => {
        const res = await peer.call("v2.denoctx.callEcho", {}, {
          meta: { a: 1 },
        });
        const { self, echo } = res.data as { self: Rec; echo: Rec };
        assert.equal(self.level, 1);
        assert.equal(self.nodeID, "node-c");
        assert.equal(echo.level, 2);
        assert.equal(echo.requestID, self.requestID);
        assert.equal(echo.parentID, self.id);
        assert.deepEqual(echo.meta, { a: 1 });
        // The meta Node's echo added travels back through Deno to the first caller.
        assert.deepEqual(res.meta, { a: 1, fromNode: true });
      },
    );
  },
);
