import { strict as assert } from "node:assert";
import { ServiceBroker } from "../../mod.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { GREETER_SERVICE, lines, runCliOnce, spawnCli, tempDir } from "./_helpers.ts";

/** Rows of --print-config by key. */
function rows(stdout: string): Map<string, { value: string; from: string }> {
  const out = new Map<string, { value: string; from: string }>();
  for (const line of lines(stdout)) {
    if (line.startsWith("#")) continue;
    const m = /^(\S+)\s{2,}(.+?)\s{2,}(\S.*)$/.exec(line);
    assert.ok(m, `unparsable row: ${line}`);
    out.set(m[1]!, { value: m[2]!, from: m[3]! });
  }
  return out;
}

Deno.test("cli --print-config: flag > env > config > default, with origins, secrets masked", async () => {
  await using dir = await tempDir();
  await dir.write(
    "denolecular.config.ts",
    `export default async function (ctx: { cwd: string }) {
      await Promise.resolve();
      return {
        nodeID: "config-node",
        namespace: "config-ns",
        requestTimeout: 3000,
        transporter: "nats://admin:s3cret@127.0.0.1:4222",
        registry: { preferLocal: true, stopDelay: 50 },
        metadata: { region: "eu", fromCwd: ctx.cwd.length > 0 },
      };
    }`,
  );
  await dir.write(
    "ops.env",
    `# deployment settings
LOGLEVEL=debug
export HEARTBEATINTERVAL="5"   # seconds
NAMESPACE='from-env-file'
`,
  );
  const r = await runCliOnce(
    [
      "services",
      "--print-config",
      "-b",
      "flag-node",
      "--env-file",
      "ops.env",
      "--hot",
    ],
    {
      cwd: dir.path,
      env: {
        NODEID: "env-node",
        NAMESPACE: "env-ns",
        REGISTRY_PREFERLOCAL: "false",
        MOL_TRANSIT__MAX_QUEUE_SIZE: "77",
        MOL_CACHER: "MemoryLRU",
        MOL_NO_SUCH_OPTION: "true",
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^# config file: denolecular\.config\.ts$/m);
  assert.match(
    r.stdout,
    /^# ignored: MOL_NO_SUCH_OPTION \(no broker option 'noSuchOption'\)$/m,
  );
  const c = rows(r.stdout);
  assert.deepEqual(c.get("nodeID"), {
    value: '"flag-node"',
    from: "flag --broker-id",
  });
  assert.deepEqual(c.get("namespace"), {
    value: '"env-ns"',
    from: "env NAMESPACE",
  });
  assert.deepEqual(c.get("logLevel"), {
    value: '"debug"',
    from: "env LOGLEVEL",
  });
  assert.deepEqual(c.get("heartbeatInterval"), {
    value: "5",
    from: "env HEARTBEATINTERVAL",
  });
  assert.deepEqual(c.get("requestTimeout"), {
    value: "3000",
    from: "config denolecular.config.ts",
  });
  assert.deepEqual(c.get("transporter"), {
    value: '"nats://admin:***@127.0.0.1:4222"',
    from: "config denolecular.config.ts",
  });
  assert.deepEqual(c.get("registry.preferLocal"), {
    value: "false",
    from: "env REGISTRY_PREFERLOCAL",
  });
  assert.deepEqual(c.get("registry.stopDelay"), {
    value: "50",
    from: "config denolecular.config.ts",
  });
  assert.deepEqual(c.get("transit.maxQueueSize"), {
    value: "77",
    from: "env MOL_TRANSIT__MAX_QUEUE_SIZE",
  });
  assert.deepEqual(c.get("metadata.region"), {
    value: '"eu"',
    from: "config denolecular.config.ts",
  });
  assert.deepEqual(c.get("cacher"), {
    value: '"MemoryLRU"',
    from: "env MOL_CACHER",
  });
  assert.deepEqual(c.get("heartbeatTimeout"), { value: "30", from: "default" });
  assert.deepEqual(c.get("runner.paths"), {
    value: '["services"]',
    from: "argument",
  });
  assert.deepEqual(c.get("runner.hot"), { value: "true", from: "flag --hot" });
  assert.doesNotMatch(r.stdout, /s3cret/);
});

Deno.test("cli --print-config: a JSON config is found in the cwd; -c names another", async () => {
  await using dir = await tempDir();
  await dir.write(
    "denolecular.config.json",
    '{ "namespace": "json-ns", "requestTimeout": 1 }',
  );
  await dir.write(
    "other.config.mjs",
    'export default { namespace: "mjs-ns" };',
  );
  const found = rows(
    (await runCliOnce(["--print-config"], { cwd: dir.path })).stdout,
  );
  assert.deepEqual(found.get("namespace"), {
    value: '"json-ns"',
    from: "config denolecular.config.json",
  });
  const named = await runCliOnce([
    "--print-config",
    "-c",
    "other.config.mjs",
    "-t",
    "nats://tok@h:4222",
  ], {
    cwd: dir.path,
  });
  const c = rows(named.stdout);
  assert.deepEqual(c.get("namespace"), {
    value: '"mjs-ns"',
    from: "config other.config.mjs",
  });
  assert.deepEqual(c.get("requestTimeout"), { value: "0", from: "default" });
  assert.deepEqual(c.get("transporter"), {
    value: '"nats://***@h:4222"',
    from: "flag --transporter",
  });
});

Deno.test("cli: config and env errors name the cause", async () => {
  await using dir = await tempDir();
  await dir.write("throws.config.ts", 'throw new Error("vault unreachable");');
  await dir.write("typo.config.json", '{ "transporterr": "nats://x" }');
  await dir.write("bad.env", "NOT A VALID LINE\n");
  const t = await runCliOnce(["-c", "throws.config.ts"], { cwd: dir.path });
  assert.equal(t.code, 1);
  assert.equal(lines(t.stderr).length, 1);
  assert.match(
    t.stderr,
    /cannot load config file throws\.config\.ts: vault unreachable/,
  );
  const typo = await runCliOnce(["-c", "typo.config.json"], { cwd: dir.path });
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /invalid option: Unknown broker option 'transporterr'/,
  );
  const env = await runCliOnce(["--env-file", "bad.env"], { cwd: dir.path });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /bad\.env: line 1: expected KEY=VALUE/);
  const missing = await runCliOnce(["--env-file", "nope.env"], {
    cwd: dir.path,
  });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /env file not found: nope\.env/);
  const badEnv = await runCliOnce(["--print-config"], {
    cwd: dir.path,
    env: { NODEID: "a b" },
  });
  assert.equal(badEnv.code, 2);
  assert.match(badEnv.stderr, /invalid option: Option 'nodeID'/);
});

Deno.test("cli: the environment configures a running node (TRANSPORTER, NAMESPACE, NODEID)", async () => {
  await using nats = await startNatsServer();
  await using dir = await tempDir();
  await dir.write("services/greeter.service.ts", GREETER_SERVICE);
  await dir.write("app.env", `TRANSPORTER=${nats.url}\nNAMESPACE=from-file\n`);
  await using cli = spawnCli(["services", "--env-file", "app.env"], {
    cwd: dir.path,
    env: { NODEID: "env-node", NAMESPACE: "from-env" },
  });
  await cli.waitFor(
    `Node 'env-node' is ready with 2 service(s) (greeter, $node) on ${nats.url}, namespace 'from-env'`,
  );
  const caller = new ServiceBroker({
    nodeID: "caller",
    namespace: "from-env",
    transporter: nats.url,
    logger: false,
  });
  await caller.start();
  try {
    await caller.waitForServices("greeter", 5000);
    assert.equal(
      await caller.call("greeter.hello", { name: "env" }),
      "Hello, env!",
    );
  } finally {
    await caller.stop();
  }
  cli.signal("SIGTERM");
  assert.equal(await cli.code, 0);
});
