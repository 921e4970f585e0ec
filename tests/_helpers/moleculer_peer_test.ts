import assert from "node:assert/strict";
import { startNatsServer } from "./nats_server.ts";
import {
  type MoleculerVersion,
  PeerCallError,
  type PeerEvent,
  skipWithoutPeers,
  startMoleculerPeer,
} from "./moleculer_peer.ts";

const ignore = skipWithoutPeers();
if (ignore) {
  console.warn(
    "tests/node_modules is missing: run `npm ci` in tests/ for interop tests",
  );
}

const connected = (id: string) => (e: PeerEvent) =>
  e.type === "local-event" && e.event === "$node.connected" && e.nodeID === id;

for (const version of ["0.14", "0.15"] as MoleculerVersion[]) {
  Deno.test({
    name: `moleculer peer harness: two real Moleculer ${version} nodes over NATS`,
    ignore,
    async fn() {
      await using nats = await startNatsServer();
      const common = {
        version,
        transporter: nats.url,
        heartbeatInterval: 1,
        heartbeatTimeout: 2,
      };
      await using a = await startMoleculerPeer({ ...common, nodeID: "a" });
      await using b = await startMoleculerPeer({ ...common, nodeID: "b" });
      await Promise.all([
        a.waitForEvent(connected("b")),
        b.waitForEvent(connected("a")),
      ]);

      // Served by either node; then forced onto b.
      const sum = await a.call("nodemath.add", { a: 2, b: 3 });
      assert.equal(sum.data, 5);
      assert.ok(sum.nodeID === "a" || sum.nodeID === "b");
      const remote = await a.call("nodemath.add", { a: 1, b: 1 }, {
        nodeID: "b",
      });
      assert.deepEqual([remote.data, remote.nodeID], [2, "b"]);

      // Meta goes out and the handler's meta changes come back merged into the caller's meta.
      const echo = await a.call("nodemath.echo", { x: 1 }, {
        nodeID: "b",
        meta: { m: 1 },
      });
      assert.deepEqual(echo.meta, { m: 1, fromNode: true });
      const echoed = echo.data as Record<string, unknown>;
      assert.deepEqual(echoed.params, { x: 1 });
      assert.deepEqual(echoed.meta, { m: 1 });
      assert.equal(echoed.level, 1);

      const hello = await a.call("v2.greeter.hello", { name: "Deno" });
      assert.equal(hello.data, "Hello, Deno! (from node)");

      const ids = (await a.nodes()).map((n) => n.id).sort();
      assert.deepEqual(ids, ["a", "b"]);

      // Balanced emit: exactly one `grp-node` listener gets user.created.
      await a.emit("user.created", { id: 7 });
      const isCreated = (e: PeerEvent) => e.type === "event" && e.handler === "user.created";
      const got = await Promise.any([
        a.waitForEvent(isCreated),
        b.waitForEvent(isCreated),
      ]);
      assert.deepEqual(got.data, { id: 7 });
      assert.equal(got.event, "user.created");
      assert.equal(got.nodeID, "a");

      // A Moleculer error comes back with its fields.
      await assert.rejects(
        a.call("nodemath.fail", {}, { nodeID: "b" }),
        (err: unknown) => {
          assert.ok(err instanceof PeerCallError);
          assert.equal(err.name, "MoleculerClientError");
          assert.equal(err.ctorName, "MoleculerClientError");
          assert.equal(err.code, 418);
          assert.equal(err.type, "TEAPOT");
          assert.deepEqual(err.data, { x: 1 });
          assert.equal(err.retryable, false);
          return true;
        },
      );

      assert.ok(await a.ping("b", 2000), "b answers a ping");

      // A killed peer is gone: its process exited, and a notices by the missing heartbeats.
      const inFlight = b.call("nodemath.slow", { ms: 30_000 });
      await b.kill();
      await assert.rejects(inFlight, /exited \(code 137, signal SIGKILL\)/);
      assert.equal((await b.exited).signal, "SIGKILL");
      await assert.rejects(
        b.call("nodemath.add", { a: 1, b: 1 }),
        /is not running/,
      );
      const gone = await a.waitForEvent(
        (e) => e.event === "$node.disconnected" && e.nodeID === "b",
        10_000,
      );
      assert.equal(gone.unexpected, true);
      await assert.rejects(
        a.call("nodemath.add", { a: 1, b: 1 }, { nodeID: "b" }),
        (err: unknown) =>
          err instanceof PeerCallError &&
          err.name === "ServiceNotFoundError",
      );

      await a.stop();
      assert.equal((await a.exited).code, 0);
    },
  });
}

Deno.test({
  name: "moleculer peer harness: a peer that cannot start rejects with its stderr",
  ignore,
  async fn() {
    await assert.rejects(
      startMoleculerPeer({
        version: "9.9" as MoleculerVersion,
        nodeID: "x",
        transporter: "nats://127.0.0.1:1",
      }),
      /exited before it was ready[\s\S]*unknown version/,
    );
  },
});
