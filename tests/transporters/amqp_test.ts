/**
 * AMQP-specific behaviour of AmqpTransporter: naming and options, an unreachable server,
 * Moleculer's queues, exchanges and arguments on RabbitMQ, acknowledgement once handled (a
 * request held by a node that goes away is delivered again), and a connection the server
 * closes under load — RabbitMQ is shared, so each test has a vhost of its own, and the
 * "outage" is the server closing the vhost's connections.
 */

import assert from "node:assert/strict";
import amqp from "amqplib";
import { BrokerDisconnectedError, BrokerOptionsError } from "../../src/errors.ts";
import { resolveTransporter } from "../../src/transporters/resolve.ts";
import { AmqpTransporter } from "../../src/transporters/amqp/amqp.ts";
import { freePort } from "../_helpers/nats_server.ts";
import { startRabbitVhost } from "../_helpers/servers.ts";
import { outage, slowMath } from "../reliability/_outage.ts";
import { startNode } from "../reliability/_util.ts";
import { bytes, RecordingHost, sync, within } from "./_util.ts";

Deno.test("AMQP resolves from Moleculer's URLs, name and { type, options }", () => {
  for (const opt of ["amqp://guest:guest@127.0.0.1:5672", "amqps://rabbit.example", "AMQP"]) {
    assert.ok(resolveTransporter(opt) instanceof AmqpTransporter, opt);
  }
  const t = resolveTransporter({
    type: "AMQP",
    options: { url: "amqp://u:s3cret@r1:5673/prod;amqp://r2", prefetch: 4 },
  }) as AmqpTransporter;
  assert.equal(t.url, "amqp://r1:5673/prod,amqp://r2:5672");
  assert.equal(t.hasBuiltInBalancer, true);
});

Deno.test("AMQP refuses bad options by name, without echoing a password", () => {
  assert.throws(
    () => new AmqpTransporter("amqp://u:topsecret@bad host"),
    (e: unknown) =>
      e instanceof BrokerOptionsError && e.message.includes("***") &&
      !e.message.includes("topsecret"),
  );
  assert.throws(() => new AmqpTransporter({ prefetch: -1 }), /'prefetch'/);
  assert.throws(() => new AmqpTransporter({ autoDeleteQueues: "yes" as never }), /autoDelete/);
  assert.throws(() => new AmqpTransporter({ eventTimeToLive: 0 }), /'eventTimeToLive'/);
  assert.throws(() => new AmqpTransporter({ queueOptions: [] as never }), /'queueOptions'/);
  assert.throws(() => new AmqpTransporter("http://rabbit"), /amqp:\/\/ or amqps:\/\//);
});

Deno.test("AMQP: an unreachable server rejects connect() with BrokerDisconnectedError", async () => {
  const port = freePort();
  const t = new AmqpTransporter(`amqp://127.0.0.1:${port}`);
  const err = await within(
    t.connect(new RecordingHost("n")).then(() => null, (e) => e),
    5_000,
    "connect() to fail",
  );
  assert.ok(err instanceof BrokerDisconnectedError, String(err));
  assert.match(err.message, new RegExp(`amqp://127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  await t.disconnect();
});

Deno.test("AMQP: Moleculer's queues, exchanges and queue arguments", async () => {
  await using vhost = await startRabbitVhost();
  const t = new AmqpTransporter({ url: vhost.url, eventTimeToLive: 5_000 });
  await t.connect(new RecordingHost("n1", "dev"));
  const raw = await amqp.connect(vhost.url);
  try {
    await t.subscribe("REQ", "n1");
    await t.subscribe("INFO");
    await t.subscribe("EVENT", "n1");
    await t.subscribeBalancedRequest("users.get");
    await t.subscribeBalancedEvent("user.created", "mail");
    const channel = await raw.createChannel();
    // Declaring a queue again with other arguments fails: these are Moleculer's, exactly.
    await channel.assertQueue("MOL-dev.REQ.n1", { expires: 120_000 });
    await channel.assertQueue("MOL-dev.INFO.n1", { autoDelete: true });
    await channel.assertQueue("MOL-dev.EVENT.n1", { expires: 120_000, messageTtl: 5_000 });
    await channel.assertQueue("MOL-dev.REQB.users.get", {});
    await channel.assertQueue("MOL-dev.EVENTB.mail.user.created", {
      expires: 120_000,
      messageTtl: 5_000,
    });
    await channel.checkExchange("MOL-dev.INFO");
    await channel.close();
  } finally {
    await raw.close();
    await t.disconnect();
  }
});

Deno.test("AMQP: a request is acknowledged once handled, so one held by a node that goes is delivered again", async () => {
  await using vhost = await startRabbitVhost();
  const opts = { url: vhost.url, prefetch: 1 };
  const caller = new AmqpTransporter(opts);
  const stuck = new AmqpTransporter(opts);
  const healthy = new AmqpTransporter(opts);
  const held: string[] = [];
  // `receive` returns a promise that never settles: the request stays unacknowledged.
  const stuckHost = Object.assign(new RecordingHost("stuck"), {
    receive: (_type: string, data: Uint8Array) => {
      held.push(new TextDecoder().decode(data));
      return new Promise(() => {});
    },
  });
  const healthyHost = new RecordingHost("healthy");
  try {
    await caller.connect(new RecordingHost("caller"));
    await stuck.connect(stuckHost);
    await stuck.subscribeBalancedRequest("svc.work");
    await caller.publishBalancedRequest("svc.work", bytes("job-1"));
    await within(
      (async () => {
        while (held.length === 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      5_000,
      "the stuck node to take the job",
    );
    await healthy.connect(healthyHost);
    await healthy.subscribeBalancedRequest("svc.work");
    await sync(healthy, healthyHost);
    assert.deepEqual(healthyHost.texts, [], "still held by the stuck node");
    await stuck.disconnect();
    await healthyHost.waitFor(1);
    assert.deepEqual(healthyHost.lines, ["REQ job-1"]);
  } finally {
    await Promise.all([caller.disconnect(), stuck.disconnect(), healthy.disconnect()]);
  }
});

async function rabbitmqctl(...args: string[]): Promise<void> {
  const out = await new Deno.Command("rabbitmqctl", { args, stdout: "null", stderr: "null" })
    .output();
  if (!out.success) throw new Error(`rabbitmqctl ${args.join(" ")} failed`);
}

/** The connections of a vhost, by their Erlang process ids. */
async function connectionsOf(vhost: string): Promise<string[]> {
  const list = await new Deno.Command("rabbitmqctl", {
    args: ["-q", "list_connections", "pid", "vhost"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(list.stdout).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, v]) => pid?.startsWith("<") && v === vhost)
    .map(([pid]) => pid!);
}

/** Ask RabbitMQ to close connections (what a server restart does to them), all at once. */
async function closeConnections(pids: string[]): Promise<number> {
  await Promise.all(pids.map((pid) => rabbitmqctl("close_connection", pid, "test outage")));
  return pids.length;
}

Deno.test("AMQP: a connection closed by the server comes back, queues and consumers restored", async () => {
  await using vhost = await startRabbitVhost();
  const t = new AmqpTransporter(vhost.url);
  const host = new RecordingHost("n1");
  const other = new AmqpTransporter(vhost.url);
  try {
    await t.connect(host);
    await t.subscribe("EVENT", "n1");
    await t.subscribe("HEARTBEAT");
    await other.connect(new RecordingHost("n2"));
    assert.equal(await closeConnections(await connectionsOf(vhost.name)), 2);
    await host.until("disconnect");
    await host.until("reconnect", 1, 5_000);
    assert.deepEqual(host.events, ["disconnect", "reconnect"]);
    await within(
      (async () => {
        while (!other.connected) await new Promise((r) => setTimeout(r, 20));
      })(),
      5_000,
      "the other node to reconnect",
    );
    await other.publish("EVENT", "n1", bytes("after"));
    await other.publish("HEARTBEAT", undefined, bytes("beat"));
    await host.waitFor(2);
    assert.deepEqual(host.lines.sort(), ["EVENT after", "HEARTBEAT beat"]);
  } finally {
    await other.disconnect();
    await t.disconnect();
  }
});

Deno.test("AMQP outage: Deno caller → Deno responder, the vhost closed for 3 s", async () => {
  await using vhost = await startRabbitVhost();
  // "Down": guest loses its permissions on the vhost and its connections are closed, so every
  // reconnection is refused; "restarted": the permissions come back.
  // prefetch: with Moleculer's default of 1, a node handles one request at a time, too few for
  // the scenario's 100 calls a second.
  const transporter = { type: "AMQP", options: { url: vhost.url, prefetch: 100 } };
  await using _responder = await startNode(transporter, "deno-resp", [slowMath], {
    heartbeatTimeout: 5,
  });
  await using caller = await startNode(transporter, "caller", [], { heartbeatTimeout: 5 });
  await caller.broker.waitForServices("nodemath", 3000, 10);
  const pids = await connectionsOf(vhost.name);
  assert.equal(pids.length, 2);
  const server = {
    kill: async () => {
      await Promise.all([
        rabbitmqctl("clear_permissions", "-p", vhost.name, "guest"),
        closeConnections(pids),
      ]);
    },
    restart: () => rabbitmqctl("set_permissions", "-p", vhost.name, "guest", ".*", ".*", ".*"),
  };
  await outage(server, caller, "deno-resp");
});
