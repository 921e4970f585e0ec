/** NATS-specific behaviour of NatsTransporter, each test against a private nats-server. */

import assert from "node:assert/strict";
import { BrokerDisconnectedError, BrokerOptionsError, MoleculerError } from "../../src/errors.ts";
import { NatsTransporter } from "../../src/transporters/nats/nats.ts";
import { type NatsTransporterOptions, parseNatsUrl } from "../../src/transporters/nats/options.ts";
import { DenoTransport } from "../../src/transporters/nats/deno_transport.ts";
import { freePort, startNatsServer } from "../_helpers/nats_server.ts";
import { connect as connectRaw } from "../../src/transporters/nats/deno_transport.ts";
import { bytes, RecordingHost, sync } from "./_util.ts";

/** `nats://127.0.0.1:1234` → `nats://<creds>@127.0.0.1:1234`. */
function withCreds(url: string, creds: string): string {
  return url.replace("nats://", `nats://${creds}@`);
}

/** Connect `t` with a fresh recording host; one round trip proves the connection works. */
async function connectChecked(
  t: NatsTransporter,
  nodeID = "n",
): Promise<RecordingHost> {
  const host = new RecordingHost(nodeID);
  await t.connect(host);
  await sync(t, host);
  return host;
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

Deno.test("NatsTransporter transport option: validated, and each connection keeps its own", async () => {
  assert.throws(
    () => new NatsTransporter({ transport: "bun" as "deno" }),
    (e: unknown) =>
      e instanceof BrokerOptionsError &&
      /"deno", "node" or "wire"/.test(e.message),
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
  const kinds = ["deno", "node", "wire"] as const;
  const transporters = kinds.map((transport) =>
    new NatsTransporter({ ...base, name: `on-${transport}`, transport })
  );
  const hosts = kinds.map((transport) => new RecordingHost(`on-${transport}`));
  const each = (
    f: (t: NatsTransporter, h: RecordingHost) => Promise<unknown>,
  ) => Promise.all(transporters.map((t, i) => f(t, hosts[i]!)));
  try {
    // In this order: "node" installs its factory process-wide after "deno" connected.
    for (const [i, t] of transporters.entries()) await t.connect(hosts[i]!);
    assert.deepEqual(seen, ["on-deno"]);
    await each(sync);

    await server.kill();
    await each((_, h) => h.until("disconnect"));
    seen.length = 0;
    await server.restart();
    await each((_, h) => h.until("reconnect"));
    // Reconnects stay on each transporter's own transport.
    assert.ok(seen.includes("on-deno"));
    assert.ok(!seen.includes("on-node"));
    assert.ok(!seen.includes("on-wire"));
    await each(sync);
  } finally {
    DenoTransport.prototype.connect = original;
    await each((t) => t.disconnect());
  }
});

// Every behaviour, on each client: nats.js over DenoTransport ("deno") and the wire client.
for (const transport of ["deno", "wire"] as const) {
  /** A transporter on this client, from a connection string or options. */
  const nats = (options: string | NatsTransporterOptions) =>
    new NatsTransporter(
      typeof options === "string" ? { url: options, transport } : { ...options, transport },
    );

  Deno.test(`${transport}: NatsTransporter.connect() to a closed port fails fast and names the URL`, async () => {
    const port = freePort();
    const t = nats(`nats://127.0.0.1:${port}`);
    const started = Date.now();
    await assert.rejects(t.connect(new RecordingHost("n")), (e: unknown) => {
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

  Deno.test(`${transport}: NatsTransporter authenticates with user/password`, async () => {
    await using server = await startNatsServer({
      args: ["--user", "u", "--pass", "p@ss"],
    });

    const fromUrl = nats(withCreds(server.url, "u:p%40ss"));
    try {
      await connectChecked(fromUrl);
    } finally {
      await fromUrl.disconnect();
    }

    const fromOptions = nats({
      servers: server.url,
      user: "u",
      pass: "p@ss",
    });
    try {
      await connectChecked(fromOptions);
    } finally {
      await fromOptions.disconnect();
    }

    // Repeated on purpose: a rejected connection used to leave a socket that could throw later.
    for (let i = 0; i < 10; i++) {
      const wrong = nats(
        withCreds(server.url, "u:wrong-password"),
      );
      await assert.rejects(
        wrong.connect(new RecordingHost("n")),
        (e: unknown) => {
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
        },
      );
    }

    const anonymous = nats(server.url);
    await assert.rejects(
      anonymous.connect(new RecordingHost("n")),
      /authorization failed .*no credentials were given/i,
    );
  });

  Deno.test(`${transport}: NatsTransporter authenticates with a token`, async () => {
    await using server = await startNatsServer({
      args: ["--auth", "s3cret-token"],
    });

    const good = nats(withCreds(server.url, "s3cret-token"));
    try {
      await connectChecked(good);
    } finally {
      await good.disconnect();
    }

    const viaOptions = nats({
      servers: server.url,
      token: "s3cret-token",
    });
    await connectChecked(viaOptions);
    await viaOptions.disconnect();

    const bad = nats(withCreds(server.url, "nope"));
    await assert.rejects(bad.connect(new RecordingHost("n")), (e: unknown) => {
      assert.ok(e instanceof BrokerDisconnectedError);
      assert.match(e.message, /authorization failed .*token was rejected/i);
      assert.ok(!e.message.includes("nope"));
      return true;
    });
  });

  Deno.test(`${transport}: NatsTransporter.publish() rejects payloads over max_payload with a clear error`, async () => {
    await using server = await startNatsServer({
      config: "max_payload: 1024\n",
    });
    const t = nats(server.url);
    const host = new RecordingHost("big");
    await t.connect(host);
    try {
      assert.equal(t.maxPayload, 1024);
      await t.subscribe("EVENT", "big");

      const tooLarge = (subject: string) => (e: unknown) => {
        assert.ok(e instanceof MoleculerError);
        assert.equal(
          e.message,
          "Packet of 2000 bytes exceeds the NATS server's max_payload of 1024 bytes",
        );
        assert.equal(e.code, 500);
        assert.equal(e.type, "MAX_PAYLOAD_EXCEEDED");
        assert.deepEqual(e.data, { subject, size: 2000, maxPayload: 1024 });
        return true;
      };
      const big = new Uint8Array(2000);
      await assert.rejects(
        t.publish("EVENT", "big", big),
        tooLarge("MOL.EVENT.big"),
      );
      await assert.rejects(
        t.publishBalancedRequest("a.b", big),
        tooLarge("MOL.REQB.a.b"),
      );
      await assert.rejects(
        t.publishBalancedEvent("e", "g", big),
        tooLarge("MOL.EVENTB.g.e"),
      );

      // The connection is still fine, and a payload at the limit goes through.
      await t.publish("EVENT", "big", new Uint8Array(1024).fill(97));
      await host.waitFor(1);
      assert.equal(host.received[0]?.text.length, 1024);
      assert.equal(t.connected, true);
      assert.deepEqual(host.errors, []);
    } finally {
      await t.disconnect();
    }
  });

  Deno.test(`${transport}: NatsTransporter survives a server restart on the same subscriptions`, async () => {
    await using server = await startNatsServer();
    const opts = { servers: server.url, reconnectTimeWait: 50 };
    const subscriber = nats(opts);
    const publisher = nats(opts);
    const subHost = new RecordingHost("sub");
    const pubHost = new RecordingHost("pub");
    await subscriber.connect(subHost);
    await publisher.connect(pubHost);
    try {
      await subscriber.subscribe("REQ", "sub");
      await subscriber.subscribeBalancedRequest("re.queued");
      await sync(subscriber, subHost);
      await publisher.publish("REQ", "sub", bytes("before"));
      await subHost.waitFor(1);

      await server.kill();
      await Promise.all([
        subHost.until("disconnect"),
        pubHost.until("disconnect"),
      ]);
      assert.equal(publisher.connected, false);
      await assert.rejects(
        publisher.publish("REQ", "sub", bytes("lost")),
        (e: unknown) => {
          assert.ok(e instanceof BrokerDisconnectedError);
          assert.match(
            e.message,
            /^Cannot publish to "MOL\.REQ\.sub": reconnecting to NATS at nats:\/\/127\.0\.0\.1:\d+/,
          );
          return true;
        },
      );

      await server.restart();
      await Promise.all([
        subHost.until("reconnect"),
        pubHost.until("reconnect"),
      ]);
      assert.equal(subscriber.connected, true);
      assert.equal(publisher.connected, true);
      await sync(subscriber, subHost); // its restored subscriptions are active on the new server

      await publisher.publish("REQ", "sub", bytes("after"));
      await publisher.publishBalancedRequest(
        "re.queued",
        bytes("queued-after"),
      );
      await subHost.waitFor(3);
      assert.deepEqual(subHost.texts, ["before", "after", "queued-after"]);
      for (const host of [subHost, pubHost]) {
        assert.deepEqual(host.events.filter((e) => e !== "error"), [
          "disconnect",
          "reconnect",
        ]);
      }
    } finally {
      await subscriber.disconnect();
      await publisher.disconnect();
    }
  });

  Deno.test(`${transport}: NatsTransporter.disconnect() returns promptly while the server is down`, async () => {
    await using server = await startNatsServer();
    const t = nats({ servers: server.url, reconnectTimeWait: 50 });
    const host = new RecordingHost("n");
    await t.connect(host);
    await server.kill();
    await host.until("disconnect");
    const started = Date.now();
    await t.disconnect();
    assert.ok(Date.now() - started < 2_000);
    assert.equal(t.connected, false);
    await assert.rejects(
      t.publish("INFO", undefined, bytes("x")),
      BrokerDisconnectedError,
    );
  });

  Deno.test(`${transport}: NatsTransporter.disconnect() flushes what was published`, async () => {
    await using server = await startNatsServer();
    const receiver = nats(server.url);
    const sender = nats(server.url);
    const host = new RecordingHost("receiver");
    await receiver.connect(host);
    await sender.connect(new RecordingHost("sender"));
    try {
      await receiver.subscribe("EVENT", "receiver");
      await sync(receiver, host);
      const N = 500;
      for (let i = 0; i < N; i++) {
        await sender.publish("EVENT", "receiver", bytes(String(i)));
      }
      await sender.disconnect();
      await host.waitFor(N);
      assert.equal(host.received.length, N);
    } finally {
      await receiver.disconnect();
      await sender.disconnect();
    }
  });

  Deno.test(`${transport}: NatsTransporter.connect() twice keeps one connection`, async () => {
    await using server = await startNatsServer();
    const t = nats(server.url);
    const host = new RecordingHost("n");
    await Promise.all([t.connect(host), t.connect(host)]);
    await t.connect(host);
    try {
      await sync(t, host);
    } finally {
      await t.disconnect();
    }
    // And it can connect again after a disconnect.
    try {
      await connectChecked(t);
    } finally {
      await t.disconnect();
    }
  });

  Deno.test(`${transport}: NatsTransporter.disconnect() while the client still loads closes what connect() opens`, async () => {
    await using server = await startNatsServer();
    const t = nats(server.url);
    const connecting = t.connect(new RecordingHost("n"));
    await t.disconnect();
    await connecting;
    assert.equal(t.connected, false);
  });

  Deno.test(`${transport}: NatsTransporter speaks Moleculer's NATS subjects and queue groups`, async () => {
    await using server = await startNatsServer();
    const wire = await connectRaw({ servers: server.url });
    const t = nats(server.url);
    const host = new RecordingHost("n1", "dev");
    try {
      const seen: string[] = [];
      wire.subscribe(">", {
        callback: (_e, m) => void seen.push(`${m.subject} ${m.string()}`),
      });
      await wire.flush();
      await t.connect(host);
      await t.publish("REQ", "n2", bytes("1"));
      await t.publish("INFO", undefined, bytes("2"));
      await t.publishBalancedRequest("users.get", bytes("3"));
      await t.publishBalancedEvent("user.created", "mail", bytes("4"));
      await waitUntil(() => seen.length >= 4);
      assert.deepEqual(seen.slice(0, 4), [
        "MOL-dev.REQ.n2 1",
        "MOL-dev.INFO 2",
        "MOL-dev.REQB.users.get 3",
        "MOL-dev.EVENTB.mail.user.created 4",
      ]);

      // Subscriptions on Moleculer's subjects: `**` became `>`, and each balanced one sits in the
      // queue group of the action / the event group, shared with a plain client in that group.
      await t.subscribe("INFO", "n1");
      await t.subscribeBalancedRequest("users.get");
      await t.subscribeBalancedEvent("order.**", "billing");
      await sync(t, host);
      const rivals: string[] = [];
      wire.subscribe("MOL-dev.REQB.users.get", {
        queue: "users.get",
        callback: (_e, m) => void rivals.push(m.string()),
      });
      wire.subscribe("MOL-dev.EVENTB.billing.>", {
        queue: "billing",
        callback: (_e, m) => void rivals.push(m.string()),
      });
      await wire.flush();
      wire.publish("MOL-dev.INFO.n1", "info");
      wire.publish("MOL-dev.EVENTB.billing.order.line.added", "deep");
      for (let i = 0; i < 20; i++) {
        wire.publish("MOL-dev.REQB.users.get", `call-${i}`);
      }
      await waitUntil(() => host.received.length + rivals.length >= 22);
      assert.deepEqual(host.lines.slice(0, 1), ["INFO info"]);
      const calls = [...host.texts, ...rivals].filter((x) => x.startsWith("call-"));
      assert.equal(calls.length, 20, "each call once across the queue group");
      assert.ok(
        host.received.some((r) => r.type === "REQ"),
        "the transporter got some calls",
      );
      assert.equal(
        [...host.lines, ...rivals.map((r) => `EVENT ${r}`)].filter((l) => l === "EVENT deep")
          .length,
        1,
        "the deep event once in its group",
      );
    } finally {
      await t.disconnect();
      await wire.close();
    }
  });
}

/** Poll until `probe` holds (5 s at most). */
async function waitUntil(probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}
