/**
 * NATS outage under steady traffic: a caller sends a call every 10 ms (no call timeout: nothing
 * may rely on one) to a responder whose handler takes 50 ms; the nats-server is SIGKILLed, and
 * restarted on the same port 3 s later. Every call settles with a value or a typed error:
 * - calls in flight at the kill reject at once with BrokerDisconnectedError (their responses are
 *   lost with the connection);
 * - calls made during the outage fail fast with BrokerDisconnectedError;
 * - once back, the caller re-announces itself (INFO + DISCOVER); calls to a responder that is
 *   not back yet fail fast too (it has not been heard from since the reconnect), and calls
 *   succeed again as soon as it is; nobody is marked offline.
 * The responder is a Denolecular node, then a Moleculer 0.15 node. The clients reconnect with
 * their defaults (2 s between attempts).
 */

import assert from "node:assert/strict";
import { skipWithoutPeers, startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { outage, slowMath } from "./_outage.ts";
import { startNode } from "./_util.ts";

Deno.test("NATS outage: Deno caller → Deno responder, kill + restart after 3 s", async () => {
  await using nats = await startNatsServer();
  await using responder = await startNode(nats.url, "deno-resp", [slowMath], {
    heartbeatTimeout: 5,
  });
  await using caller = await startNode(nats.url, "caller", [], {
    heartbeatTimeout: 5,
  });
  await caller.broker.waitForServices("nodemath", 3000, 10);
  await outage(nats, caller, "deno-resp");
  // The responder re-announced itself too, and saw nobody go.
  assert.equal(responder.broker.registry.nodes.get("caller")?.available, true);
  assert.equal(
    responder.logs.matching(/disconnected unexpectedly|marking it offline/)
      .length,
    0,
  );
});

Deno.test({
  name: "NATS outage: Deno caller → Moleculer 0.15 responder, kill + restart after 3 s",
  ignore: skipWithoutPeers(),
  async fn() {
    await using nats = await startNatsServer();
    await using _peer = await startMoleculerPeer({
      version: "0.15",
      nodeID: "node-resp",
      transporter: nats.url,
      services: ["nodemath"],
      heartbeatInterval: 1,
      heartbeatTimeout: 10,
    });
    await using caller = await startNode(nats.url, "caller", [], {
      heartbeatTimeout: 5,
    });
    await caller.broker.waitForServices("nodemath", 5000, 10);
    await outage(nats, caller, "node-resp");
  },
});
