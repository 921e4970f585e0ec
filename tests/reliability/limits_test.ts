/**
 * Limits over a real nats-server:
 * - the pending-request bound (`transit.maxQueueSize`) → QueueIsFullError, at once;
 * - the server's `max_payload` (4096 bytes here): a REQ too large fails at once with an error
 *   naming its size and the limit; a RESPONSE too large reaches the caller as that error (the
 *   responder answers with it), not as a timeout; a result JSON cannot encode likewise;
 * - `transit.disconnect()` settles pending pings (null) and clears their timers.
 */

import assert from "node:assert/strict";
import { MoleculerError, QueueIsFullError, type ServiceSchema } from "../../mod.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { deferred, RawClient, report, startNode, timed, waitFor } from "./_util.ts";

Deno.test("limits: transit.maxQueueSize rejects with QueueIsFullError at once", async () => {
  await using nats = await startNatsServer();
  const gate = deferred();
  let running = 0;
  const held: ServiceSchema = {
    name: "held",
    actions: {
      wait: async () => {
        running++;
        await gate.promise;
        return "released";
      },
    },
  };
  await using _r = await startNode(nats.url, "resp", [held]);
  await using caller = await startNode(nats.url, "caller", [], {
    transit: { maxQueueSize: 5 },
  });
  await caller.broker.waitForServices("held", 3000, 10);
  const calls = Array.from(
    { length: 8 },
    () => timed(caller.broker.call("held.wait")),
  );
  await waitFor(() => running === 5, "5 requests on the responder");
  const full = await Promise.race([
    Promise.all(calls.slice(5)),
    new Promise((r) => setTimeout(r, 0, null)),
  ]);
  assert.ok(full, "the extra calls are rejected at once");
  for (const r of full as { error?: unknown; ms: number }[]) {
    assert.ok(r.error instanceof QueueIsFullError, String(r.error));
    assert.equal(r.error.code, 429);
    assert.deepEqual(r.error.data, {
      action: "held.wait",
      nodeID: "resp",
      size: 5,
      limit: 5,
    });
  }
  gate.resolve();
  for (const r of await Promise.all(calls.slice(0, 5))) {
    assert.equal(r.value, "released");
  }
  assert.equal(caller.broker.transit!.pendingCount, 0);
  report("maxQueueSize 5: 8 calls", "5 answered, 3 QueueIsFullError at once");
});

Deno.test("limits: max_payload — too-large requests and responses fail clearly, fast", async () => {
  await using nats = await startNatsServer({ config: "max_payload: 4096\n" });
  const big = "x".repeat(10_000);
  const svc: ServiceSchema = {
    name: "blob",
    actions: {
      echo: (ctx) => ctx.params,
      big: () => big,
      bigError: () => {
        throw new MoleculerError("too much detail", 500, "DETAIL", {
          detail: big,
        });
      },
      bigint: () => ({ n: 10n }),
      small: () => "ok",
    },
  };
  await using resp = await startNode(nats.url, "resp", [svc]);
  await using caller = await startNode(nats.url, "caller");
  await caller.broker.waitForServices("blob", 3000, 10);

  // A request over the limit: rejected before it leaves, naming the size and the limit.
  const req = await timed(
    caller.broker.call("blob.echo", { big }, { timeout: 5000 }),
  );
  assert.ok(req.error instanceof MoleculerError, String(req.error));
  assert.equal(req.error.type, "MAX_PAYLOAD_EXCEEDED");
  assert.match(
    req.error.message,
    /^The request of 'blob.echo' is too large: Packet of 10\d{3} bytes exceeds the NATS server's max_payload of 4096 bytes$/,
  );
  assert.deepEqual(
    { ...(req.error.data as Record<string, unknown>), size: 0 },
    {
      subject: "MOL.REQ.resp",
      size: 0,
      maxPayload: 4096,
      action: "blob.echo",
      nodeID: "resp",
    },
  );
  assert.ok(req.ms < 100, `${req.ms} ms`);

  // A response over the limit: the responder answers with the error instead.
  for (const action of ["blob.big", "blob.bigError"]) {
    const res = await timed(caller.broker.call(action, {}, { timeout: 5000 }));
    assert.ok(res.error instanceof MoleculerError, `${action}: ${res.error}`);
    assert.equal(res.error.type, "MAX_PAYLOAD_EXCEEDED", action);
    assert.match(
      res.error.message,
      new RegExp(
        `^The response of '${action}' is too large: Packet of \\d+ bytes exceeds the NATS ` +
          "server's max_payload of 4096 bytes$",
      ),
    );
    assert.equal(res.error.nodeID, "resp");
    assert.ok(
      res.ms < 500,
      `${action}: answered after ${res.ms} ms, not at the timeout`,
    );
    report(
      `${action}: caller got`,
      `${res.error.message} after ${res.ms.toFixed(1)} ms`,
    );
  }
  // A result JSON cannot encode (a BigInt): an error too, not a timeout.
  const bi = await timed(
    caller.broker.call("blob.bigint", {}, { timeout: 5000 }),
  );
  assert.ok(bi.error instanceof MoleculerError, String(bi.error));
  assert.equal(bi.error.type, "RESPONSE_NOT_SENT");
  assert.match(
    bi.error.message,
    /The response of 'blob.bigint' cannot be sent: .*BigInt/,
  );
  assert.ok(bi.ms < 500);
  report(
    "too-large REQ: caller got",
    `${req.error.message} after ${req.ms.toFixed(1)} ms`,
  );
  // Both nodes still work; the warnings were logged once each.
  assert.equal(await caller.broker.call("blob.small"), "ok");
  assert.ok(resp.logs.matching(/Cannot send the response/).length >= 1);
});

Deno.test("limits: transit.disconnect() settles pending pings and clears their timers", async () => {
  await using nats = await startNatsServer();
  const node = await startNode(nats.url, "pinger");
  // A "node" that never answers: the ping would wait 60 s.
  await using raw = await RawClient.connect(nats.url, "mute");
  await raw.announce([]);
  await waitFor(() => node.broker.registry.nodes.has("mute"), "mute known");
  const pings = [
    node.broker.ping("mute", 60_000),
    node.broker.ping(["mute"], 60_000),
  ];
  const t0 = performance.now();
  await node.broker.stop();
  const [one, many] = await Promise.all(pings);
  assert.equal(one, null);
  assert.deepEqual(many, { mute: null });
  assert.ok(performance.now() - t0 < 2000);
  // (The test's sanitizers fail it if a 60 s timer were left behind.)
});
