/**
 * The gateway in a mixed cluster over NATS: a Deno gateway node in front of a Node.js
 * Moleculer 0.15 node that comes and goes. Its aliases answer 503 while the Node services are
 * away and 200 once they are there; its auto aliases appear when the Node node's services are
 * announced and disappear when it leaves.
 */

import assert from "node:assert/strict";
import { freePort, startNatsServer } from "../_helpers/nats_server.ts";
import { IGNORE, startDeno, waitFor } from "../interop/_shared.ts";
import { startWebNode } from "./_cluster.ts";
import { ditems, http, sharedGateway } from "./_fixtures.ts";

Deno.test({
  name: "gateway cluster: Node.js services joining and leaving change what the gateway answers",
  ignore: IGNORE,
  async fn() {
    await using nats = await startNatsServer();
    const port = freePort();
    await using deno = await startDeno({
      nodeID: "deno-gw",
      transporter: nats.url,
      services: [ditems, sharedGateway(port)],
    });
    const url = `http://127.0.0.1:${port}`;
    assert.equal((await http(url, "/auto/ditems/1")).status, 200);
    const away = await http(url, "/api/nusers/2");
    assert.deepEqual([away.status, (away.json as { name: string }).name], [
      503,
      "ServiceUnavailableError",
    ]);
    assert.equal((await http(url, "/auto/nusers/2")).status, 404);

    const node = await startWebNode({
      nodeID: "node-svc",
      transporter: nats.url,
    });
    try {
      await waitFor(
        async () => (await http(url, "/auto/nusers/2")).status === 200,
        "auto alias",
        10_000,
      );
      assert.deepEqual((await http(url, "/api/nusers/2")).json, {
        id: 2,
        name: "Bob",
      });
      const who = await http(url, "/api/nusers/whoami", {
        headers: { authorization: "Bearer 123", "x-agent": "cluster" },
      });
      assert.deepEqual(who.json, {
        user: { id: 1, name: "Ann" },
        agent: "cluster",
      });
    } finally {
      await node.stop();
    }
    await waitFor(
      async () => (await http(url, "/api/nusers/2")).status === 503,
      "503 again",
      10_000,
    );
    await waitFor(
      async () => (await http(url, "/auto/nusers/2")).status === 404,
      "alias gone",
      10_000,
    );
    assert.equal((await http(url, "/auto/ditems/1")).status, 200);
    assert.ok(deno.broker.started);
  },
});
