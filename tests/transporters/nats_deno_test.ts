/** The Deno-native NATS transport (`src/transporters/nats_deno.ts`) against a private nats-server. */

import assert from "node:assert/strict";
import { errors, type NatsConnection, type Status } from "@nats-io/nats-core";
import { connect, DenoTransport } from "../../src/transporters/nats/deno_transport.ts";
import { freePort, startNatsServer } from "../_helpers/nats_server.ts";
import { hasOpenssl, makeTestCertificates } from "../_helpers/tls.ts";
import { within } from "./_util.ts";

const td = new TextDecoder();

/** Resolves with the first status of `type` the connection reports. */
function nextStatus(nc: NatsConnection, type: Status["type"]): Promise<Status> {
  return (async () => {
    for await (const s of nc.status()) if (s.type === type) return s;
    throw new Error(`connection closed before a '${type}' status`);
  })();
}

Deno.test("DenoTransport: publish/subscribe, in order, including payloads larger than a read slab", async () => {
  await using nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  try {
    const got: string[] = [];
    const count = 5_000;
    const done = Promise.withResolvers<void>();
    nc.subscribe("order.>", {
      callback: (_err, msg) => {
        got.push(td.decode(msg.data));
        if (got.length === count) done.resolve();
      },
    });
    await nc.flush();
    for (let i = 0; i < count; i++) nc.publish(`order.${i % 7}`, `m${i}`);
    await within(done.promise, 5_000, "5000 messages");
    assert.deepEqual(got, Array.from({ length: count }, (_, i) => `m${i}`));

    // 600 KB spans several reads and slabs; each byte must survive the parser's reassembly.
    const big = new Uint8Array(600 * 1024).map((_, i) => i % 251);
    const bigDone = Promise.withResolvers<Uint8Array>();
    nc.subscribe("big", { callback: (_err, msg) => bigDone.resolve(msg.data.slice()) });
    await nc.flush();
    nc.publish("big", big);
    assert.deepEqual(await within(bigDone.promise, 5_000, "the big message"), big);
  } finally {
    await nc.close();
  }
});

Deno.test("DenoTransport: request/reply and queue groups", async () => {
  await using nats = await startNatsServer();
  const responder = await connect({ servers: nats.url });
  const caller = await connect({ servers: nats.url });
  try {
    const served: string[] = [];
    for (const name of ["a", "b"]) {
      responder.subscribe("svc.echo", {
        queue: "workers",
        callback: (_err, msg) => {
          served.push(name);
          msg.respond(`${name}:${msg.string()}`);
        },
      });
    }
    await responder.flush();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => caller.request("svc.echo", `r${i}`, { timeout: 2_000 })),
    );
    replies.forEach((r, i) => assert.match(r.string(), new RegExp(`^[ab]:r${i}$`)));
    assert.equal(served.length, 50, "each request is served by one member of the queue group");
  } finally {
    await caller.close();
    await responder.close();
  }
});

Deno.test("DenoTransport: reconnects after the server is killed and restarted, keeping subscriptions", async () => {
  await using nats = await startNatsServer();
  const nc = await connect({
    servers: nats.url,
    reconnectTimeWait: 50,
    maxReconnectAttempts: -1,
  });
  try {
    const got: string[] = [];
    let wake = Promise.withResolvers<void>();
    nc.subscribe("after.restart", {
      callback: (_err, msg) => {
        got.push(msg.string());
        wake.resolve();
      },
    });
    await nc.flush();
    nc.publish("after.restart", "before");
    await within(wake.promise, 2_000, "a message before the restart");

    const disconnected = nextStatus(nc, "disconnect");
    const reconnected = nextStatus(nc, "reconnect");
    await nats.kill();
    await within(disconnected, 5_000, "the disconnect status");
    await nats.restart();
    await within(reconnected, 10_000, "the reconnect status");

    wake = Promise.withResolvers<void>();
    nc.publish("after.restart", "after");
    await within(wake.promise, 2_000, "a message after the restart");
    assert.deepEqual(got, ["before", "after"]);
  } finally {
    await nc.close();
  }
});

Deno.test("DenoTransport: a refused connection rejects with a ConnectionError", async () => {
  const port = freePort();
  await assert.rejects(
    connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 2_000 }),
    (e: unknown) => e instanceof errors.ConnectionError,
  );
});

Deno.test("DenoTransport: user/password authentication, and a clear rejection of bad ones", async () => {
  await using nats = await startNatsServer({ args: ["--user", "bench", "--pass", "s3cret"] });
  const nc = await connect({ servers: nats.url, user: "bench", pass: "s3cret" });
  const reply = Promise.withResolvers<string>();
  nc.subscribe("auth.ok", { callback: (_e, m) => reply.resolve(m.string()) });
  nc.publish("auth.ok", "yes");
  assert.equal(await within(reply.promise, 2_000, "a message"), "yes");
  await nc.close();
  await assert.rejects(
    connect({ servers: nats.url, user: "bench", pass: "wrong", reconnect: false }),
    (e: unknown) => e instanceof errors.AuthorizationError,
  );
});

Deno.test("DenoTransport: the client closes its transport (no leaked socket or read)", async () => {
  await using nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  await nc.drain();
  assert.equal(nc.isClosed(), true);
  // A transport that never connected closes quietly.
  const t = new DenoTransport();
  await t.close();
  assert.equal(t.isClosed, true);
  t.discard();
});

Deno.test({
  name: "DenoTransport: TLS upgrade verified against a CA file; an unknown CA is refused",
  ignore: !(await hasOpenssl()),
  fn: async () => {
    await using certs = await makeTestCertificates();
    {
      const dir = certs.dir;
      await using nats = await startNatsServer({
        args: ["--tls", "--tlscert", `${dir}/server.pem`, "--tlskey", `${dir}/server.key`],
      });
      const nc = await connect({
        servers: nats.url,
        tls: { caFile: `${dir}/ca.pem` },
        reconnect: false,
      });
      try {
        const got = Promise.withResolvers<string>();
        nc.subscribe("tls.ok", { callback: (_e, m) => got.resolve(m.string()) });
        nc.publish("tls.ok", "encrypted");
        assert.equal(await within(got.promise, 2_000, "a message over TLS"), "encrypted");
      } finally {
        await nc.close();
      }
      // Without the CA the server's certificate is not trusted.
      await assert.rejects(
        connect({ servers: nats.url, tls: {}, reconnect: false, timeout: 3_000 }),
      );
      // Client certificates need handshakeFirst on Deno.
      await assert.rejects(
        connect({
          servers: nats.url,
          tls: {
            caFile: `${dir}/ca.pem`,
            certFile: `${dir}/server.pem`,
            keyFile: `${dir}/server.key`,
          },
          reconnect: false,
        }),
        /handshakeFirst/,
      );
    }
  },
});
