/**
 * Interop: tracing with real Moleculer 0.15 nodes over NATS. A Node → Deno → Node call chain
 * forms one trace with the right parent links (spans collected from both sides' Event
 * exporters), the sampling decision holds through a Deno hop that does not trace, and the Node
 * side's Zipkin exporter sees distinct 64-bit ids for the spans of Deno-made contexts.
 */

import assert from "node:assert/strict";
import type { Context } from "../../mod.ts";
import { requirePeers } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { IGNORE, startDeno, startPeer, VERSIONS, waitFor } from "./_shared.ts";

type Rec = Record<string, unknown>;
const V015 = VERSIONS.find((v) => v.version === "0.15")!;

/** A local Zipkin API: keeps every span POSTed to /api/v2/spans. */
function zipkinServer() {
  const spans: Rec[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    if (
      req.method === "POST" && new URL(req.url).pathname === "/api/v2/spans"
    ) {
      spans.push(...await req.json() as Rec[]);
      return new Response(null, { status: 202 });
    }
    return new Response("not found", { status: 404 });
  });
  return { spans, url: `http://127.0.0.1:${server.addr.port}`, server };
}

Deno.test({
  name: "interop Moleculer 0.15 (protocol 5): tracing across Node → Deno → Node, Zipkin ids",
  ignore: IGNORE,
  async fn() {
    requirePeers();
    await using nats = await startNatsServer();
    const zipkin = zipkinServer();
    await using _zipkin = {
      [Symbol.asyncDispose]: () => zipkin.server.shutdown(),
    };
    await using peer = await startPeer(nats, V015, "node-t", {
      services: ["nodemath"],
      brokerOptions: {
        tracing: {
          enabled: true,
          exporter: [
            { type: "Event", options: { interval: 0 } },
            { type: "Zipkin", options: { baseURL: zipkin.url, interval: 0.2 } },
          ],
        },
      },
    });
    const spans: Rec[] = [];
    // A tracing Deno node: its own spans and the peer's reach its collector.
    await using traced = await startDeno({
      nodeID: "deno-t",
      transporter: nats.url,
      protocolVersion: "5",
      tracing: {
        enabled: true,
        exporter: { type: "Event", options: { interval: 0 } },
      },
      services: [
        {
          name: "collector",
          events: {
            "$tracing.spans": (ctx: Context<Rec[]>) => void spans.push(...ctx.params),
          },
        },
        {
          name: "denorelay",
          actions: {
            run: (ctx: Context<{ next: string }>) => ctx.call(ctx.params.next, {}),
          },
        },
      ],
    });
    // A Deno node that does not trace: it only relays.
    await using plain = await startDeno({
      nodeID: "deno-p",
      transporter: nats.url,
      protocolVersion: "5",
      services: [{
        name: "plainrelay",
        actions: {
          run: (ctx: Context<{ next: string }>) => ctx.call(ctx.params.next, {}),
        },
      }],
    });
    await traced.broker.waitForServices(["nodemath", "plainrelay"], 10_000);
    await plain.broker.waitForServices(["nodemath"], 10_000);
    await peer.waitForServices(
      ["denorelay", "plainrelay", "collector"],
      10_000,
    );

    // Node → Deno (tracing) → Node: one trace, each span the child of the one before.
    const echoed = (await peer.call("nodemath.relay", {
      action: "denorelay.run",
      params: { next: "nodemath.echo" },
    })).data as Rec;
    const byName = (name: string, traceID?: string) =>
      spans.find((s) => s.name === name && (traceID === undefined || s.traceID === traceID));
    const root = await waitFor(
      () => byName("action 'nodemath.relay'"),
      "the root span",
      10_000,
    );
    const trace = root.traceID as string;
    const hop = await waitFor(
      () => byName("action 'denorelay.run'", trace),
      "the Deno span",
    );
    const leaf = await waitFor(
      () => byName("action 'nodemath.echo'", trace),
      "the leaf span",
    );
    assert.equal(root.parentID, null);
    assert.equal(hop.parentID, root.id);
    assert.equal(leaf.parentID, hop.id);
    assert.equal(leaf.traceID, root.id);
    assert.equal((hop.tags as Rec).remoteCall, true);
    assert.equal((hop.tags as Rec).callerNodeID, "node-t");
    assert.equal(echoed.requestID, root.id);
    assert.equal(echoed.parentID, hop.id);
    assert.equal(echoed.level, 3);

    // Through the Deno node that does not trace, the Node callee still sees the decision
    // (Moleculer reads `!!payload.tracing`: without it, it would record nothing).
    spans.length = 0;
    await peer.call("nodemath.relay", {
      action: "plainrelay.run",
      params: { next: "nodemath.echo" },
    });
    const root2 = await waitFor(
      () => byName("action 'nodemath.relay'"),
      "the second root span",
    );
    const leaf2 = await waitFor(
      () => byName("action 'nodemath.echo'"),
      "the leaf span behind deno-p",
      10_000,
    );
    assert.equal(leaf2.traceID, root2.traceID);
    assert.equal(leaf2.sampled, true);
    assert.equal((leaf2.tags as Rec).callerNodeID, "deno-p");
    assert.equal(
      spans.some((s) => s.name === "action 'plainrelay.run'"),
      false,
    );

    // Calls made by Deno contexts: Moleculer's Zipkin exporter cuts their ids to 16 hex digits,
    // and they stay distinct.
    zipkin.spans.length = 0;
    for (let i = 0; i < 3; i++) {
      await traced.broker.call("nodemath.add", { a: i, b: 1 });
    }
    await waitFor(
      () =>
        zipkin.spans.filter((s) => s.name === "action 'nodemath.add'").length >=
          3,
      "three Zipkin spans",
      10_000,
    );
    const adds = zipkin.spans.filter((s) => s.name === "action 'nodemath.add'");
    assert.equal(
      new Set(adds.map((s) => s.id)).size,
      3,
      JSON.stringify(adds.map((s) => s.id)),
    );
    assert.equal(new Set(adds.map((s) => s.traceId)).size, 3);
    for (const s of adds) assert.match(String(s.id), /^[0-9a-f]{16}$/);
  },
});
