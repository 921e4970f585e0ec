/**
 * MQTT-specific behaviour of MqttTransporter: how it is named and configured, a broker that
 * cannot be reached, Moleculer's topics (both separators) on the wire, and a restart of a
 * private mosquitto under load.
 */

import assert from "node:assert/strict";
import mqtt from "mqtt";
import { BrokerDisconnectedError, BrokerOptionsError } from "../../src/errors.ts";
import { resolveTransporter } from "../../src/transporters/resolve.ts";
import { MqttTransporter } from "../../src/transporters/mqtt/mqtt.ts";
import { freePort } from "../_helpers/nats_server.ts";
import { startMosquitto } from "../_helpers/servers.ts";
import { outage, slowMath } from "../reliability/_outage.ts";
import { startNode } from "../reliability/_util.ts";
import { bytes, RecordingHost, within } from "./_util.ts";

Deno.test("MQTT resolves from Moleculer's URLs, name and { type, options }", () => {
  for (const opt of ["mqtt://127.0.0.1:1883", "mqtts://mq.example", "MQTT"]) {
    assert.ok(resolveTransporter(opt) instanceof MqttTransporter, opt);
  }
  const t = resolveTransporter({
    type: "MQTT",
    options: { host: "mq1", port: 1884, qos: 1, topicSeparator: "/" },
  }) as MqttTransporter;
  assert.equal(t.url, "mqtt://mq1:1884");
  assert.equal(t.qos, 1);
  assert.equal(t.topicSeparator, "/");
  assert.equal(t.hasBuiltInBalancer, false);
  assert.equal(new MqttTransporter("mqtt://u:s3cret@mq2").url, "mqtt://mq2:1883");
  assert.equal(new MqttTransporter("mqtts://mq2").url, "mqtts://mq2:8883");
});

Deno.test("MQTT refuses bad options by name, without echoing a password", () => {
  assert.throws(
    () => new MqttTransporter("mqtt://u:topsecret@bad host"),
    (e: unknown) =>
      e instanceof BrokerOptionsError && e.message.includes("***") &&
      !e.message.includes("topsecret"),
  );
  assert.throws(() => new MqttTransporter({ qos: 3 as 0 }), /'qos' must be 0, 1 or 2/);
  assert.throws(() => new MqttTransporter({ topicSeparator: "" }), /'topicSeparator'/);
  assert.throws(() => resolveTransporter({ type: "MQTT", options: [] }), /object or a URL/);
});

Deno.test("MQTT: an unreachable broker rejects connect() with BrokerDisconnectedError", async () => {
  const port = freePort();
  const t = new MqttTransporter(`mqtt://127.0.0.1:${port}`);
  const err = await within(
    t.connect(new RecordingHost("n")).then(() => null, (e) => e),
    5_000,
    "connect() to fail",
  );
  assert.ok(err instanceof BrokerDisconnectedError, String(err));
  assert.match(err.message, new RegExp(`mqtt://127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  await t.disconnect();
});

Deno.test("MQTT: Moleculer's topics on the wire, with either separator, qos 0 and 1", async () => {
  await using server = await startMosquitto();
  const spy = await mqtt.connectAsync(server.url);
  const seen: string[] = [];
  try {
    spy.on("message", (topic, payload) => seen.push(`${topic} ${payload}`));
    await spy.subscribeAsync("#");
    const dot = new MqttTransporter(server.url);
    await dot.connect(new RecordingHost("n1", "dev"));
    await dot.publish("INFO", undefined, bytes("a"));
    await dot.publish("REQ", "n2", bytes("b"));
    await dot.disconnect();
    const slash = new MqttTransporter({ port: server.port, topicSeparator: "/", qos: 1 });
    const host = new RecordingHost("n3");
    await slash.connect(host);
    await slash.subscribe("EVENT", "n3");
    await slash.publish("EVENT", "n3", bytes("c"));
    await host.waitFor(1);
    await slash.disconnect();
    const deadline = Date.now() + 3_000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, ["MOL-dev.INFO a", "MOL-dev.REQ.n2 b", "MOL/EVENT/n3 c"]);
    assert.deepEqual(host.lines, ["EVENT c"]);
  } finally {
    await spy.endAsync();
  }
});

Deno.test("MQTT: a lost broker is reported, topics come back before onReconnect", async () => {
  await using server = await startMosquitto();
  const t = new MqttTransporter({ port: server.port, host: "127.0.0.1", reconnectPeriod: 100 });
  const host = new RecordingHost("n1");
  const other = new MqttTransporter(server.url);
  try {
    await t.connect(host);
    await t.subscribe("EVENT", "n1");
    await server.kill();
    await host.until("disconnect");
    assert.equal(t.connected, false);
    await assert.rejects(t.publish("EVENT", "n1", bytes("lost")), BrokerDisconnectedError);
    await server.restart();
    await host.until("reconnect");
    await other.connect(new RecordingHost("n2"));
    await other.publish("EVENT", "n1", bytes("after"));
    await host.waitFor(1);
    assert.deepEqual(host.lines, ["EVENT after"]);
  } finally {
    await other.disconnect();
    await t.disconnect();
  }
});

Deno.test("MQTT outage: Deno caller → Deno responder, kill + restart after 3 s", async () => {
  await using server = await startMosquitto();
  await using _responder = await startNode(server.url, "deno-resp", [slowMath], {
    heartbeatTimeout: 5,
  });
  await using caller = await startNode(server.url, "caller", [], { heartbeatTimeout: 5 });
  await caller.broker.waitForServices("nodemath", 3000, 10);
  await outage(server, caller, "deno-resp");
});
