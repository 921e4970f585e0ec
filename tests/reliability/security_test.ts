/**
 * Security over a real nats-server:
 * - user/password and token authentication, given in the URL and as transporter options; a
 *   wrong password or token makes `broker.start()` reject with a clear error (no secret in it);
 * - TLS with a CA and a server certificate made here with openssl: the CA as transporter
 *   options (`tls: { caFile }`), and a bare `tls://user:pass@host` URL in a process that trusts
 *   the CA (`DENO_CERT`); without the CA the error says what is missing;
 * - two namespaces on one server never see each other;
 * - protected and private actions cannot be called from other nodes.
 */

import assert from "node:assert/strict";
import {
  BrokerDisconnectedError,
  type BrokerOptions,
  ServiceBroker,
  ServiceNotFoundError,
  type ServiceSchema,
} from "../../mod.ts";
import { moleculerPeersInstalled, startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { makeTestCertificates } from "../_helpers/tls.ts";
import { RawClient, report, spawnResponder, startNode, waitFor } from "./_util.ts";

const hello = (name: string): ServiceSchema => ({
  name,
  actions: { hi: (ctx) => `hi from ${ctx.broker.nodeID}` },
});

/** `start()` must reject with BrokerDisconnectedError; returns its message. */
async function startFails(
  transporter: BrokerOptions["transporter"],
): Promise<string> {
  const b = new ServiceBroker({
    nodeID: "intruder",
    transporter: transporter!,
    logger: false,
  });
  try {
    const t0 = performance.now();
    const err = await b.start().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof BrokerDisconnectedError, String(err));
    assert.ok(performance.now() - t0 < 5000);
    return err.message;
  } finally {
    await b.stop();
  }
}

/** Two nodes call each other: the connection works both ways. */
async function bothWays(a: ServiceBroker, b: ServiceBroker): Promise<void> {
  await a.waitForServices("b", 5000, 10);
  await b.waitForServices("a", 5000, 10);
  assert.equal(await a.call("b.hi"), `hi from ${b.nodeID}`);
  assert.equal(await b.call("a.hi"), `hi from ${a.nodeID}`);
}

Deno.test("security: user/password in the URL and in options; a wrong one fails start()", async () => {
  await using nats = await startNatsServer({
    args: ["--user", "alice", "--pass", "s3cr3t"],
  });
  const url = `nats://alice:s3cr3t@127.0.0.1:${nats.port}`;
  await using a = await startNode(url, "a-url", [hello("a")]);
  await using b = await startNode(
    { type: "NATS", options: { url: nats.url, user: "alice", pass: "s3cr3t" } },
    "b-opts",
    [hello("b")],
  );
  await bothWays(a.broker, b.broker);
  const wrong = await startFails(
    `nats://alice:wrong-pass@127.0.0.1:${nats.port}`,
  );
  assert.match(
    wrong,
    /authorization failed .*user "alice" and its password were rejected/i,
  );
  assert.ok(!wrong.includes("wrong-pass"), wrong);
  const wrongOpts = await startFails({
    type: "NATS",
    options: { url: nats.url, user: "alice", pass: "nope" },
  });
  assert.match(wrongOpts, /user "alice" and its password were rejected/);
  const none = await startFails(nats.url);
  assert.match(none, /no credentials were given/);
  report("wrong password → start() rejects with", wrong);
});

Deno.test("security: token in the URL and in options; a wrong one fails start()", async () => {
  await using nats = await startNatsServer({ args: ["--auth", "t0k3n"] });
  await using a = await startNode(
    `nats://t0k3n@127.0.0.1:${nats.port}`,
    "a-url",
    [hello("a")],
  );
  await using b = await startNode(
    { type: "NATS", options: { servers: [nats.url], token: "t0k3n" } },
    "b-opts",
    [hello("b")],
  );
  await bothWays(a.broker, b.broker);
  const wrong = await startFails(`nats://bad-token@127.0.0.1:${nats.port}`);
  assert.match(wrong, /the token was rejected/);
  assert.ok(!wrong.includes("bad-token"), wrong);
  report("wrong token → start() rejects with", wrong);
});

Deno.test("security: TLS with a test CA, through options and through a tls:// URL", async () => {
  await using certs = await makeTestCertificates();
  {
    await using nats = await startNatsServer({
      args: [
        "--tls",
        "--tlscert",
        certs.cert,
        "--tlskey",
        certs.key,
        "--user",
        "bob",
        "--pass",
        "pw",
      ],
    });
    const hostPort = `127.0.0.1:${nats.port}`;
    // Options: tls:// server, the CA file, credentials as options.
    await using a = await startNode(
      {
        type: "NATS",
        options: {
          servers: [`tls://${hostPort}`],
          tls: { caFile: certs.ca },
          user: "bob",
          pass: "pw",
        },
      },
      "a-tls",
      [hello("a")],
    );
    // A nats:// URL with credentials, the CA as an option: the client upgrades to TLS.
    await using b = await startNode(
      {
        type: "NATS",
        options: {
          url: `nats://bob:pw@${hostPort}`,
          tls: { caFile: certs.ca },
        },
      },
      "b-tls",
      [hello("b")],
    );
    await bothWays(a.broker, b.broker);
    // A bare URL, `tls://user:pass@host:port`, in a process that trusts the CA (DENO_CERT).
    await using c = await spawnResponder({
      url: `tls://bob:pw@${hostPort}`,
      nodeID: "c-tls-url",
      env: { DENO_CERT: certs.ca },
    });
    await waitFor(
      () => a.broker.registry.nodes.get(c.nodeID)?.available,
      "c over TLS",
      5000,
    );
    assert.equal(
      await a.broker.call("math.id", {}, { nodeID: c.nodeID }),
      c.nodeID,
    );
    // Without the CA: a clear error naming what is missing.
    const noCa = await startFails(`tls://bob:pw@${hostPort}`);
    assert.match(
      noCa,
      /^Cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: .*certificate/,
    );
    assert.match(
      noCa,
      /give the CA that signed the server's certificate as tls: \{ caFile \}/,
    );
    assert.ok(!noCa.includes(":pw@"), noCa);
    // A plain client (no TLS) is refused by the server.
    const plain = await startFails({
      type: "NATS",
      options: { url: nats.url, user: "bob", pass: "pw" },
    });
    report("TLS without the CA → start() rejects with", noCa);
    report("no TLS against a TLS server → start() rejects with", plain);
  }
});

Deno.test("security: two namespaces on one server never see each other", async () => {
  await using nats = await startNatsServer();
  await using raw = await RawClient.connect(nats.url, "watcher");
  const subjects = new Set<string>();
  await raw.subscribe(
    ">",
    (_d, subject) => void subjects.add(subject.split(".").slice(0, 2).join(".")),
  );
  await using a1 = await startNode(nats.url, "a1", [hello("shared")], {
    namespace: "alpha",
  });
  await using a2 = await startNode(nats.url, "a2", [hello("onlyalpha")], {
    namespace: "alpha",
  });
  // Same nodeID and same service name as in alpha: no conflict, no mix-up.
  await using b1 = await startNode(nats.url, "a1", [hello("shared")], {
    namespace: "beta",
  });
  await a2.broker.waitForServices(["shared"], 3000, 10);
  assert.equal(await a2.broker.call("shared.hi"), "hi from a1");
  assert.equal(await b1.broker.call("shared.hi"), "hi from a1"); // its own, local
  await assert.rejects(b1.broker.call("onlyalpha.hi"), ServiceNotFoundError);
  assert.deepEqual([...b1.broker.registry.nodes.keys()], ["a1"]);
  assert.deepEqual([...a1.broker.registry.nodes.keys()].sort(), ["a1", "a2"]);
  // A REQ published in the other namespace's subjects is not heard.
  const answered = raw.record("MOL-beta.RES.watcher");
  await raw.send("MOL-beta.REQ.a2", {
    id: "x",
    action: "onlyalpha.hi",
    params: {},
    meta: {},
  });
  // beta's a1 has handled what came before (its PONG is back): nobody in beta answered.
  await raw.flush("a1", 5000, "MOL-beta");
  assert.equal(answered.length, 0);
  const prefixes = [...subjects].map((s) => s.split(".")[0]).filter((p) =>
    p !== "MOL" && p !== "_INBOX"
  );
  assert.deepEqual([...new Set(prefixes)].sort(), ["MOL-alpha", "MOL-beta"]);
  assert.ok(
    ![...subjects].some((s) => s.startsWith("MOL.")),
    [...subjects].join(),
  );
});

Deno.test("security: protected and private actions are not callable from other nodes", async () => {
  await using nats = await startNatsServer();
  const svc: ServiceSchema = {
    name: "vault",
    actions: {
      open: () => "open",
      secret: { visibility: "protected", handler: () => "secret" },
      hidden: { visibility: "private", handler: () => "hidden" },
      peek: { handler: (ctx) => ctx.call("vault.secret") },
    },
  };
  await using _owner = await startNode(nats.url, "owner", [svc]);
  await using other = await startNode(nats.url, "other");
  await other.broker.waitForServices("vault", 3000, 10);
  assert.equal(await other.broker.call("vault.open"), "open");
  // Callable locally (protected) — through the owner's own actions.
  assert.equal(await other.broker.call("vault.peek"), "secret");
  for (const action of ["vault.secret", "vault.hidden"]) {
    await assert.rejects(other.broker.call(action), ServiceNotFoundError);
    await assert.rejects(
      other.broker.call(action, {}, { nodeID: "owner" }),
      ServiceNotFoundError,
    );
  }
  // Straight on the wire: the owner answers ServiceNotFoundError.
  await using raw = await RawClient.connect(nats.url, "raw");
  for (const action of ["vault.secret", "vault.hidden"]) {
    const res = await raw.request("owner", action);
    assert.equal((res.error as { name: string }).name, "ServiceNotFoundError");
  }
  if (moleculerPeersInstalled()) {
    await using peer = await startMoleculerPeer({
      version: "0.15",
      nodeID: "node-other",
      transporter: nats.url,
      services: [],
    });
    await peer.waitForServices(["vault"], 5000);
    assert.deepEqual((await peer.call("vault.open")).data, "open");
    for (const action of ["vault.secret", "vault.hidden"]) {
      await assert.rejects(peer.call(action), { name: "ServiceNotFoundError" });
    }
  }
});
