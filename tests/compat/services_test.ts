/**
 * Moleculer services run unedited: a moleculer-db-like mixin (with `merged`, secure settings and
 * deep action overrides) and a service written as Moleculer's ES6 class, each run on
 * Denolecular and on a real Moleculer 0.15 broker with the same steps, which must give the same
 * results. Over NATS, a Moleculer node sees the same public settings, without the secrets.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Service, ServiceBroker } from "../../mod.ts";
import { nodeBinary, requirePeers, startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { PostsService } from "./services/db_mixin.mjs";
import { defineGreeter } from "./services/greeter_class.mjs";
import { outcome } from "./services/outcome.mjs";

type Step = [kind: "call" | "emit", name: string, params?: unknown];
interface Run {
  results: unknown[];
  settings: Record<string, unknown>;
}

const STEPS: Step[] = [
  ["call", "posts.find", {}],
  ["call", "posts.find", { limit: "1" }],
  ["call", "posts.count"],
  ["call", "posts.get", { id: 2 }],
  ["call", "posts.get", { id: "two" }],
  // the service overrides the handler: the mixin's params and after hook survive
  ["call", "posts.create", { title: "Third post" }],
  ["call", "posts.create", { title: "x" }],
  ["call", "posts.create", {}],
  ["call", "posts.remove", { id: 1 }],
  ["call", "posts.routes"],
  ["emit", "db.reset", {}],
  ["call", "posts.count"],
  ["call", "posts.journal"],
  ["call", "v2.greeter.hello"],
  ["call", "v2.greeter.welcome", { name: "John" }],
  ["call", "v2.greeter.welcome", {}],
  ["call", "v2.greeter.tick"],
  ["call", "v2.greeter.inspect"],
];

async function onMoleculer(steps: Step[]): Promise<Run> {
  requirePeers();
  const { code, stdout, stderr } = await new Deno.Command(nodeBinary(), {
    args: [new URL("./_moleculer_run.mjs", import.meta.url).pathname, JSON.stringify(steps)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

async function onDenolecular(steps: Step[]): Promise<Run> {
  const broker = new ServiceBroker({ nodeID: "compat", logger: false });
  broker.createService(PostsService);
  broker.createService(defineGreeter(Service));
  await broker.start();
  try {
    const results = [];
    for (const [kind, name, params] of steps) {
      // What emit() resolves to is not compared: only that it did.
      results.push(
        await outcome(() =>
          kind === "emit"
            ? broker.emit(name, params).then(() => "emitted")
            : broker.call(name, params)
        ),
      );
    }
    const posts = broker.getLocalService("posts")!;
    return { results, settings: posts.publicSettings() };
  } finally {
    await broker.stop();
  }
}

Deno.test("a moleculer-db-like mixin and an ES6 class service give Moleculer 0.15's results", async () => {
  const [expected, ours] = await Promise.all([onMoleculer(STEPS), onDenolecular(STEPS)]);
  STEPS.forEach((step, i) => {
    assert.deepEqual(ours.results[i], expected.results[i], `step ${i}: ${JSON.stringify(step)}`);
  });
  assert.deepEqual(ours.settings, expected.settings, "the settings announced to other nodes");
  assert.equal("apiKey" in ours.settings || "dbPassword" in ours.settings, false);
});

Deno.test("over NATS, a Moleculer 0.15 node sees the posts settings without either secret", async () => {
  requirePeers();
  await using nats = await startNatsServer();
  const broker = new ServiceBroker({
    nodeID: "deno-posts",
    transporter: nats.url,
    logger: false,
    transit: { discoverWaitTime: 100, serviceChangedDebounceTime: 10 },
  });
  broker.createService(PostsService);
  await broker.start();
  try {
    await using peer = await startMoleculerPeer({
      version: "0.15",
      nodeID: "node-peer",
      transporter: nats.url,
      services: [],
    });
    await peer.waitForServices(["posts"], 5000);
    const { data: list } = await peer.call("$node.services", { onlyLocal: false });
    const posts = (list as Array<Record<string, unknown>>).find((s) => s.name === "posts");
    assert.ok(posts, "the Moleculer node knows the posts service");
    const settings = posts.settings as Record<string, unknown>;
    assert.equal(settings.apiKey, undefined, "the service's own secret is not announced");
    assert.equal(settings.dbPassword, undefined, "the mixin's secret is not announced");
    assert.equal(settings.$secureSettings, undefined);
    assert.equal(settings.idField, "_id");
    const { data } = await peer.call("posts.get", { id: 1 });
    assert.deepEqual(data, { _id: 1, title: "First post", viewed: true });
  } finally {
    await broker.stop();
  }
});
