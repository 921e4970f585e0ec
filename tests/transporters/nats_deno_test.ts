/**
 * The NATS clients that run on Deno's own sockets, each against a private nats-server: nats.js
 * over `DenoTransport` (`src/transporters/nats/deno_transport.ts`) and the wire client
 * (`src/transporters/nats/wire/client.ts`), through one small interface so that every test runs
 * on both.
 */

import assert from "node:assert/strict";
import { errors, type NatsConnection, type Status } from "@nats-io/nats-core";
import { connect, DenoTransport } from "../../src/transporters/nats/deno_transport.ts";
import { WireClient } from "../../src/transporters/nats/wire/client.ts";
import { resolveNatsSettings } from "../../src/transporters/nats/options.ts";
import { BrokerDisconnectedError } from "../../src/errors.ts";
import { freePort, startNatsServer } from "../_helpers/nats_server.ts";
import { hasOpenssl, makeTestCertificates } from "../_helpers/tls.ts";
import { within } from "./_util.ts";

const td = new TextDecoder();
const te = new TextEncoder();

/** Resolves with the first status of `type` the connection reports. */
function nextStatus(nc: NatsConnection, type: Status["type"]): Promise<Status> {
  return (async () => {
    for await (const s of nc.status()) if (s.type === type) return s;
    throw new Error(`connection closed before a '${type}' status`);
  })();
}

/** What the tests need of a client. */
interface TestClient {
  sub(
    subject: string,
    callback: (data: Uint8Array) => void,
    queue?: string,
  ): void;
  pub(subject: string, data: string | Uint8Array): void;
  /** Resolves once the earlier subscriptions are active on the server. */
  ready(): Promise<void>;
  /** Resolves at the next connection event of that kind. */
  next(event: "disconnect" | "reconnect"): Promise<void>;
  close(): Promise<void>;
}

interface ConnectOptions {
  servers: string;
  user?: string;
  pass?: string;
  tls?: Record<string, unknown>;
  timeout?: number;
  reconnectTimeWait?: number;
  /** One attempt, no reconnect. */
  once?: boolean;
}

type Opener = (o: ConnectOptions) => Promise<TestClient>;

const openNatsJs: Opener = async (o) => {
  const { once, ...rest } = o;
  const nc = await connect(
    { ...rest, ...(once ? { reconnect: false } : {}) } as never,
  );
  return {
    sub: (subject, callback, queue) =>
      void nc.subscribe(subject, {
        ...(queue ? { queue } : {}),
        callback: (_e, m) => callback(m.data),
      }),
    pub: (subject, data) => nc.publish(subject, data),
    ready: () => nc.flush(),
    next: (event) => nextStatus(nc, event).then(() => {}),
    close: () => nc.close(),
  };
};

const openWire: Opener = async (o) => {
  const { servers, once, ...rest } = o;
  const client = new WireClient(
    resolveNatsSettings({
      servers,
      ...rest,
      ...(once ? { maxReconnectAttempts: 0 } : {}),
    }),
  );
  const waiters: { event: string; resolve: () => void }[] = [];
  const fire = (event: string) => {
    for (const w of waiters.splice(0)) {
      if (w.event === event) w.resolve();
      else waiters.push(w);
    }
  };
  await client.connect({
    onDisconnect: () => fire("disconnect"),
    onReconnect: () => fire("reconnect"),
  });
  let probes = 0;
  return {
    sub: (subject, callback, queue) => void client.subscribe(subject, callback, queue),
    pub: (subject, data) =>
      void client.publish(
        subject,
        typeof data === "string" ? te.encode(data) : data,
      ),
    // A message to itself comes back once every earlier SUB is active.
    ready: () => {
      const subject = `_probe.${crypto.randomUUID()}.${probes++}`;
      const back = Promise.withResolvers<void>();
      const s = client.subscribe(subject, () => back.resolve());
      void client.publish(subject, new Uint8Array(0));
      return within(back.promise, 2_000, "the probe").finally(() => s.unsubscribe());
    },
    next: (event) => new Promise((resolve) => waiters.push({ event, resolve })),
    close: () => client.disconnect(),
  };
};

const CLIENTS: [string, Opener][] = [["DenoTransport", openNatsJs], [
  "wire",
  openWire,
]];

for (const [name, open] of CLIENTS) {
  Deno.test(`${name}: publish/subscribe, in order, including payloads larger than a read slab`, async () => {
    await using nats = await startNatsServer();
    const nc = await open({ servers: nats.url });
    try {
      const got: string[] = [];
      const count = 5_000;
      const done = Promise.withResolvers<void>();
      nc.sub("order.>", (data) => {
        got.push(td.decode(data));
        if (got.length === count) done.resolve();
      });
      await nc.ready();
      for (let i = 0; i < count; i++) nc.pub(`order.${i % 7}`, `m${i}`);
      await within(done.promise, 5_000, "5000 messages");
      assert.deepEqual(got, Array.from({ length: count }, (_, i) => `m${i}`));

      // 600 KB spans several reads and slabs; each byte must survive the parser's reassembly.
      const big = new Uint8Array(600 * 1024).map((_, i) => i % 251);
      const bigDone = Promise.withResolvers<Uint8Array>();
      nc.sub("big", (data) => bigDone.resolve(data.slice()));
      await nc.ready();
      nc.pub("big", big);
      assert.deepEqual(
        await within(bigDone.promise, 5_000, "the big message"),
        big,
      );
    } finally {
      await nc.close();
    }
  });

  Deno.test(`${name}: request/reply and queue groups`, async () => {
    await using nats = await startNatsServer();
    const responder = await open({ servers: nats.url });
    const caller = await open({ servers: nats.url });
    try {
      // The reply subject travels in the payload: "<reply> <body>".
      const served: string[] = [];
      for (const member of ["a", "b"]) {
        responder.sub("svc.echo", (data) => {
          served.push(member);
          const [reply, body] = td.decode(data).split(" ");
          responder.pub(reply!, `${member}:${body}`);
        }, "workers");
      }
      const replies = new Map<number, string>();
      const all = Promise.withResolvers<void>();
      caller.sub("svc.reply.*", (data) => {
        const text = td.decode(data);
        replies.set(Number(/r(\d+)$/.exec(text)?.[1]), text);
        if (replies.size === 50) all.resolve();
      });
      await responder.ready();
      await caller.ready();
      for (let i = 0; i < 50; i++) {
        caller.pub("svc.echo", `svc.reply.${i} r${i}`);
      }
      await within(all.promise, 2_000, "50 replies");
      for (let i = 0; i < 50; i++) {
        assert.match(replies.get(i) ?? "", new RegExp(`^[ab]:r${i}$`));
      }
      assert.equal(
        served.length,
        50,
        "each request is served by one member of the queue group",
      );
    } finally {
      await caller.close();
      await responder.close();
    }
  });

  Deno.test(`${name}: reconnects after the server is killed and restarted, keeping subscriptions`, async () => {
    await using nats = await startNatsServer();
    const nc = await open({ servers: nats.url, reconnectTimeWait: 50 });
    try {
      const got: string[] = [];
      let wake = Promise.withResolvers<void>();
      nc.sub("after.restart", (data) => {
        got.push(td.decode(data));
        wake.resolve();
      });
      await nc.ready();
      nc.pub("after.restart", "before");
      await within(wake.promise, 2_000, "a message before the restart");

      const disconnected = nc.next("disconnect");
      const reconnected = nc.next("reconnect");
      await nats.kill();
      await within(disconnected, 5_000, "the disconnect status");
      await nats.restart();
      await within(reconnected, 10_000, "the reconnect status");

      wake = Promise.withResolvers<void>();
      nc.pub("after.restart", "after");
      await within(wake.promise, 2_000, "a message after the restart");
      assert.deepEqual(got, ["before", "after"]);
    } finally {
      await nc.close();
    }
  });

  Deno.test(`${name}: a refused connection rejects with a connection error`, async () => {
    const port = freePort();
    await assert.rejects(
      open({ servers: `127.0.0.1:${port}`, once: true, timeout: 2_000 }),
      (e: unknown) =>
        e instanceof errors.ConnectionError ||
        (e instanceof BrokerDisconnectedError &&
          /connection refused$/.test(e.message)),
    );
  });

  Deno.test(`${name}: user/password authentication, and a clear rejection of bad ones`, async () => {
    await using nats = await startNatsServer({
      args: ["--user", "bench", "--pass", "s3cret"],
    });
    const nc = await open({ servers: nats.url, user: "bench", pass: "s3cret" });
    const reply = Promise.withResolvers<string>();
    nc.sub("auth.ok", (data) => reply.resolve(td.decode(data)));
    nc.pub("auth.ok", "yes");
    assert.equal(await within(reply.promise, 2_000, "a message"), "yes");
    await nc.close();
    await assert.rejects(
      open({ servers: nats.url, user: "bench", pass: "wrong", once: true }),
      (e: unknown) =>
        e instanceof errors.AuthorizationError ||
        (e instanceof BrokerDisconnectedError &&
          /authorization failed \(Authorization Violation\)/.test(e.message)),
    );
  });

  Deno.test({
    name: `${name}: TLS upgrade verified against a CA file; an unknown CA is refused`,
    ignore: !(await hasOpenssl()),
    fn: async () => {
      await using certs = await makeTestCertificates();
      const dir = certs.dir;
      await using nats = await startNatsServer({
        args: [
          "--tls",
          "--tlscert",
          `${dir}/server.pem`,
          "--tlskey",
          `${dir}/server.key`,
        ],
      });
      const nc = await open({
        servers: nats.url,
        tls: { caFile: `${dir}/ca.pem` },
        once: true,
      });
      try {
        const got = Promise.withResolvers<string>();
        nc.sub("tls.ok", (data) => got.resolve(td.decode(data)));
        nc.pub("tls.ok", "encrypted");
        assert.equal(
          await within(got.promise, 2_000, "a message over TLS"),
          "encrypted",
        );
      } finally {
        await nc.close();
      }
      // Without the CA the server's certificate is not trusted.
      await assert.rejects(
        open({ servers: nats.url, tls: {}, once: true, timeout: 3_000 }),
      );
      // Client certificates need handshakeFirst on Deno.
      await assert.rejects(
        open({
          servers: nats.url,
          tls: {
            caFile: `${dir}/ca.pem`,
            certFile: `${dir}/server.pem`,
            keyFile: `${dir}/server.key`,
          },
          once: true,
        }),
        /handshakeFirst/,
      );
    },
  });
}

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
