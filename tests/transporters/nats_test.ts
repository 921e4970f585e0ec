/** NATS-specific behaviour of NatsTransporter, each test against a private nats-server. */

import assert from "node:assert/strict";
import { BrokerDisconnectedError, BrokerOptionsError, MoleculerError } from "../../src/errors.ts";
import { NatsTransporter } from "../../src/transporters/nats/nats.ts";
import { parseNatsUrl } from "../../src/transporters/nats/options.ts";
import { DenoTransport } from "../../src/transporters/nats/deno_transport.ts";
import { freePort, startNatsServer } from "../_helpers/nats_server.ts";
import { bytes, Inbox, RecordingListener, sync } from "./_util.ts";

/** `nats://127.0.0.1:1234` → `nats://<creds>@127.0.0.1:1234`. */
function withCreds(url: string, creds: string): string {
  return url.replace("nats://", `nats://${creds}@`);
}

/** Publish and receive one message through the transporter, proving the connection works. */
async function roundTrip(t: NatsTransporter): Promise<void> {
  const inbox = new Inbox();
  const sub = t.subscribe("rt.check", inbox.handler);
  await t.publish("rt.check", bytes("ok"));
  await inbox.waitFor(1);
  sub.unsubscribe();
  assert.deepEqual(inbox.texts, ["ok"]);
}

Deno.test("parseNatsUrl() splits servers, credentials and TLS", () => {
  assert.deepEqual(parseNatsUrl("nats://127.0.0.1:4222"), {
    servers: ["127.0.0.1:4222"],
  });
  assert.deepEqual(parseNatsUrl("localhost:4333"), {
    servers: ["localhost:4333"],
  });
  assert.deepEqual(parseNatsUrl("nats://nats-host"), {
    servers: ["nats-host"],
  });
  assert.deepEqual(parseNatsUrl("nats://user:p%40ss@h1:4222"), {
    servers: ["h1:4222"],
    user: "user",
    pass: "p@ss",
  });
  assert.deepEqual(parseNatsUrl("nats://s3cret@h1"), {
    servers: ["h1"],
    token: "s3cret",
  });
  assert.deepEqual(parseNatsUrl("nats://a:4222, nats://u:p@b:4223,c:4224"), {
    servers: ["a:4222", "b:4223", "c:4224"],
    user: "u",
    pass: "p",
  });
  assert.deepEqual(parseNatsUrl("tls://secure:4443"), {
    servers: ["secure:4443"],
    tls: {},
  });
  assert.deepEqual(parseNatsUrl("nats://[::1]:4222"), {
    servers: ["[::1]:4222"],
  });
});

Deno.test("parseNatsUrl() rejects malformed URLs without echoing secrets", () => {
  assert.throws(() => parseNatsUrl(""), BrokerOptionsError);
  assert.throws(
    () => parseNatsUrl("http://host:4222"),
    /nats:\/\/ or tls:\/\//,
  );
  assert.throws(
    () => parseNatsUrl("nats://u:topsecret@bad host"),
    (e: unknown) =>
      e instanceof BrokerOptionsError && !e.message.includes("topsecret") &&
      e.message.includes("***"),
  );
});

Deno.test("NatsTransporter shows its URL without credentials and merges options", () => {
  const t = new NatsTransporter(
    "nats://u:p@127.0.0.1:4222,nats://127.0.0.1:4223",
  );
  assert.equal(t.url, "nats://127.0.0.1:4222,nats://127.0.0.1:4223");
  assert.equal(t.name, "NATS");
  assert.equal(t.maxPayload, undefined);
  assert.equal(new NatsTransporter().url, "nats://127.0.0.1:4222");
  assert.equal(new NatsTransporter({ url: "nats://t@h:1" }).url, "nats://h:1");
  assert.equal(
    new NatsTransporter({ servers: ["a:1", "tls://b:2"] }).url,
    "nats://a:1,tls://b:2",
  );
});

Deno.test("NatsTransporter.connect() to a closed port fails fast and names the URL", async () => {
  const port = freePort();
  const t = new NatsTransporter(`nats://127.0.0.1:${port}`);
  const started = Date.now();
  await assert.rejects(t.connect({}), (e: unknown) => {
    assert.ok(e instanceof BrokerDisconnectedError);
    assert.equal(
      e.message,
      `Cannot connect to NATS at nats://127.0.0.1:${port}: connection refused`,
    );
    assert.equal(e.code, 502);
    return true;
  });
  assert.ok(Date.now() - started < 5_000, "no endless retry");
  assert.equal(t.connected, false);
  await t.disconnect(); // nothing to close, still fine
});

Deno.test("NatsTransporter authenticates with user/password", async () => {
  await using server = await startNatsServer({
    args: ["--user", "u", "--pass", "p@ss"],
  });

  const fromUrl = new NatsTransporter(withCreds(server.url, "u:p%40ss"));
  await fromUrl.connect({});
  try {
    await roundTrip(fromUrl);
  } finally {
    await fromUrl.disconnect();
  }

  const fromOptions = new NatsTransporter({
    servers: server.url,
    user: "u",
    pass: "p@ss",
  });
  await fromOptions.connect({});
  try {
    await roundTrip(fromOptions);
  } finally {
    await fromOptions.disconnect();
  }

  // Repeated on purpose: a rejected connection used to leave a socket that could throw later.
  for (let i = 0; i < 10; i++) {
    const wrong = new NatsTransporter(
      withCreds(server.url, "u:wrong-password"),
    );
    await assert.rejects(wrong.connect({}), (e: unknown) => {
      assert.ok(e instanceof BrokerDisconnectedError);
      assert.match(
        e.message,
        /^Cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: /,
      );
      assert.match(e.message, /authorization failed/i);
      assert.match(e.message, /user "u"/);
      assert.ok(
        !e.message.includes("wrong-password"),
        "the password is not shown",
      );
      return true;
    });
  }

  const anonymous = new NatsTransporter(server.url);
  await assert.rejects(
    anonymous.connect({}),
    /authorization failed .*no credentials were given/i,
  );
});

Deno.test("NatsTransporter authenticates with a token", async () => {
  await using server = await startNatsServer({
    args: ["--auth", "s3cret-token"],
  });

  const good = new NatsTransporter(withCreds(server.url, "s3cret-token"));
  await good.connect({});
  try {
    await roundTrip(good);
  } finally {
    await good.disconnect();
  }

  const viaOptions = new NatsTransporter({
    servers: server.url,
    token: "s3cret-token",
  });
  await viaOptions.connect({});
  await viaOptions.disconnect();

  const bad = new NatsTransporter(withCreds(server.url, "nope"));
  await assert.rejects(bad.connect({}), (e: unknown) => {
    assert.ok(e instanceof BrokerDisconnectedError);
    assert.match(e.message, /authorization failed .*token was rejected/i);
    assert.ok(!e.message.includes("nope"));
    return true;
  });
});

Deno.test("NatsTransporter.publish() rejects payloads over max_payload with a clear error", async () => {
  await using server = await startNatsServer({ config: "max_payload: 1024\n" });
  const t = new NatsTransporter(server.url);
  const listener = new RecordingListener();
  await t.connect(listener);
  try {
    assert.equal(t.maxPayload, 1024);
    const inbox = new Inbox();
    t.subscribe("big", inbox.handler);

    await assert.rejects(
      t.publish("big", new Uint8Array(2000)),
      (e: unknown) => {
        assert.ok(e instanceof MoleculerError);
        assert.equal(
          e.message,
          "Packet of 2000 bytes exceeds the NATS server's max_payload of 1024 bytes",
        );
        assert.equal(e.code, 500);
        assert.equal(e.type, "MAX_PAYLOAD_EXCEEDED");
        assert.deepEqual(e.data, {
          subject: "big",
          size: 2000,
          maxPayload: 1024,
        });
        return true;
      },
    );

    // The connection is still fine, and a payload at the limit goes through.
    await t.publish("big", new Uint8Array(1024).fill(97));
    await inbox.waitFor(1);
    assert.equal(inbox.messages[0]?.text.length, 1024);
    assert.equal(t.connected, true);
    assert.deepEqual(listener.errors, []);
  } finally {
    await t.disconnect();
  }
});

Deno.test("NatsTransporter survives a server restart on the same subscriptions", async () => {
  await using server = await startNatsServer();
  const opts = { servers: server.url, reconnectTimeWait: 50 };
  const subscriber = new NatsTransporter(opts);
  const publisher = new NatsTransporter(opts);
  const subEvents = new RecordingListener();
  const pubEvents = new RecordingListener();
  await subscriber.connect(subEvents);
  await publisher.connect(pubEvents);
  try {
    const inbox = new Inbox();
    const queued = new Inbox();
    subscriber.subscribe("re.plain", inbox.handler);
    subscriber.subscribe("re.queued", queued.handler, "grp");
    await sync(subscriber);
    await publisher.publish("re.plain", bytes("before"));
    await inbox.waitFor(1);

    await server.kill();
    await Promise.all([
      subEvents.until("disconnect"),
      pubEvents.until("disconnect"),
    ]);
    assert.equal(publisher.connected, false);
    await assert.rejects(
      publisher.publish("re.plain", bytes("lost")),
      (e: unknown) => {
        assert.ok(e instanceof BrokerDisconnectedError);
        assert.match(
          e.message,
          /reconnecting to NATS at nats:\/\/127\.0\.0\.1:\d+/,
        );
        return true;
      },
    );

    await server.restart();
    await Promise.all([
      subEvents.until("reconnect"),
      pubEvents.until("reconnect"),
    ]);
    assert.equal(subscriber.connected, true);
    assert.equal(publisher.connected, true);
    await sync(subscriber); // its restored subscriptions are active on the new server

    await publisher.publish("re.plain", bytes("after"));
    await publisher.publish("re.queued", bytes("queued-after"));
    await inbox.waitFor(2);
    await queued.waitFor(1);
    assert.deepEqual(inbox.texts, ["before", "after"]);
    assert.deepEqual(queued.texts, ["queued-after"]);
    assert.deepEqual(subEvents.events.filter((e) => e !== "error"), [
      "disconnect",
      "reconnect",
    ]);
    assert.deepEqual(pubEvents.events.filter((e) => e !== "error"), [
      "disconnect",
      "reconnect",
    ]);
  } finally {
    await subscriber.disconnect();
    await publisher.disconnect();
  }
});

Deno.test("NatsTransporter.disconnect() returns promptly while the server is down", async () => {
  await using server = await startNatsServer();
  const t = new NatsTransporter({ servers: server.url, reconnectTimeWait: 50 });
  const events = new RecordingListener();
  await t.connect(events);
  await server.kill();
  await events.until("disconnect");
  const started = Date.now();
  await t.disconnect();
  assert.ok(Date.now() - started < 2_000);
  assert.equal(t.connected, false);
  await assert.rejects(t.publish("x", bytes("x")), BrokerDisconnectedError);
});

Deno.test("NatsTransporter.disconnect() flushes what was published", async () => {
  await using server = await startNatsServer();
  const receiver = new NatsTransporter(server.url);
  const sender = new NatsTransporter(server.url);
  await receiver.connect({});
  await sender.connect({});
  try {
    const inbox = new Inbox();
    receiver.subscribe("flush.x", inbox.handler);
    await sync(receiver);
    const N = 500;
    for (let i = 0; i < N; i++) {
      await sender.publish("flush.x", bytes(String(i)));
    }
    await sender.disconnect();
    await inbox.waitFor(N);
    assert.equal(inbox.messages.length, N);
  } finally {
    await receiver.disconnect();
    await sender.disconnect();
  }
});

Deno.test("NatsTransporter.connect() twice keeps one connection", async () => {
  await using server = await startNatsServer();
  const t = new NatsTransporter(server.url);
  await Promise.all([t.connect({}), t.connect({})]);
  await t.connect({});
  try {
    await roundTrip(t);
  } finally {
    await t.disconnect();
  }
  // And it can connect again after a disconnect.
  await t.connect({});
  try {
    await roundTrip(t);
  } finally {
    await t.disconnect();
  }
});

Deno.test("NatsTransporter transport option: validated, and each connection keeps its own", async () => {
  assert.throws(
    () => new NatsTransporter({ transport: "bun" as "deno" }),
    (e: unknown) => e instanceof BrokerOptionsError && /"deno" or "node"/.test(e.message),
  );
  // Record which connections (by client name) dial through DenoTransport.
  const seen: string[] = [];
  const original = DenoTransport.prototype.connect;
  DenoTransport.prototype.connect = function (this: DenoTransport, hp, opts) {
    seen.push(opts.name ?? "");
    return original.call(this, hp, opts);
  };
  await using server = await startNatsServer();
  const base = { servers: server.url, reconnectTimeWait: 50 };
  const onDeno = new NatsTransporter({ ...base, name: "on-deno" }); // the default
  const onNode = new NatsTransporter({
    ...base,
    name: "on-node",
    transport: "node",
  });
  const denoEvents = new RecordingListener();
  const nodeEvents = new RecordingListener();
  try {
    await onDeno.connect(denoEvents);
    await onNode.connect(nodeEvents); // installs the node factory process-wide
    assert.deepEqual(seen, ["on-deno"]);
    await roundTrip(onDeno);
    await roundTrip(onNode);

    await server.kill();
    await Promise.all([
      denoEvents.until("disconnect"),
      nodeEvents.until("disconnect"),
    ]);
    seen.length = 0;
    await server.restart();
    await Promise.all([
      denoEvents.until("reconnect"),
      nodeEvents.until("reconnect"),
    ]);
    // Reconnects stay on each transporter's own transport.
    assert.ok(seen.includes("on-deno"));
    assert.ok(!seen.includes("on-node"));
    await roundTrip(onDeno);
    await roundTrip(onNode);
  } finally {
    DenoTransport.prototype.connect = original;
    await onDeno.disconnect();
    await onNode.disconnect();
  }
});
