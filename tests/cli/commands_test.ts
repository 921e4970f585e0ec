import { strict as assert } from "node:assert";
import { freePort, startNatsServer } from "../_helpers/nats_server.ts";
import { GREETER_SERVICE, lines, MATH_SERVICE, runCliOnce, spawnCli, tempDir } from "./_helpers.ts";

const LISTENER_SERVICE = `export default {
  name: "audit",
  events: {
    "user.*"(ctx: any) { this.logger.info(\`audit got \${ctx.eventName} \${JSON.stringify(ctx.params)}\`); },
  },
  actions: {
    whoami: (ctx: any) => ({ meta: ctx.meta, caller: ctx.nodeID }),
  },
};
`;

Deno.test("cli call/emit/nodes: operator sub-commands against a running CLI node", async (t) => {
  await using nats = await startNatsServer();
  await using dir = await tempDir();
  await dir.write("services/greeter.service.ts", GREETER_SERVICE);
  await dir.write("services/math.service.ts", MATH_SERVICE);
  await dir.write("services/audit.service.ts", LISTENER_SERVICE);
  await using node = spawnCli([
    "services",
    "-t",
    nats.url,
    "-b",
    "svc-node",
    "-n",
    "ops",
  ], {
    cwd: dir.path,
  });
  await node.waitFor("is ready");
  const ops = ["-t", nats.url, "-n", "ops"];

  await t.step("call prints the result as JSON", async () => {
    const r = await runCliOnce([
      "call",
      "math.add",
      '{"a": 2, "b": 40}',
      ...ops,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "42");
    const g = await runCliOnce([
      "call",
      "greeter.hello",
      '{"name":"Ops"}',
      ...ops,
    ]);
    assert.equal(JSON.parse(g.stdout), "Hello, Ops!");
  });

  await t.step("call passes --meta and pretty-prints objects", async () => {
    const r = await runCliOnce(
      [
        "call",
        "audit.whoami",
        "--meta",
        '{"user": 7}',
        "-b",
        "ops-cli",
        ...ops,
      ],
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      meta: { user: 7 },
      caller: "ops-cli",
    });
    assert.match(r.stdout, /\n {2}"meta": \{/);
  });

  await t.step(
    "call prints a failed call's error (name, message, code) and exits 1",
    async () => {
      const bad = await runCliOnce(["call", "math.add", '{"a": "x"}', ...ops]);
      assert.equal(bad.code, 1);
      assert.equal(bad.stdout, "");
      assert.equal(lines(bad.stderr).length, 1);
      assert.match(
        bad.stderr,
        /^ValidationError: .*\(code 422, type VALIDATION_ERROR\) data: \[/,
      );

      const missing = await runCliOnce([
        "call",
        "nope.nothing",
        "--wait",
        "200",
        ...ops,
      ]);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /^ServiceNotFoundError: .*nope\.nothing.*\(code 404/,
      );
    },
  );

  await t.step("emit delivers the event and prints what was sent", async () => {
    const at = node.offset;
    const r = await runCliOnce(["emit", "user.created", '{"id": 1}', ...ops]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      event: "user.created",
      broadcast: false,
      groups: ["audit"],
      nodes: ["svc-node"],
    });
    await node.waitFor('audit got user.created {"id":1}', { from: at });
  });

  await t.step(
    "emit --broadcast; an event nobody listens to exits 1",
    async () => {
      const at = node.offset;
      const r = await runCliOnce([
        "emit",
        "user.removed",
        "--broadcast",
        ...ops,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).broadcast, true);
      await node.waitFor("audit got user.removed {}", { from: at });

      const none = await runCliOnce([
        "emit",
        "order.created",
        "--wait",
        "200",
        ...ops,
      ]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /No node listens to 'order\.created'/);
    },
  );

  await t.step(
    "nodes prints a table of nodes, status and services",
    async () => {
      const r = await runCliOnce(["nodes", ...ops]);
      assert.equal(r.code, 0, r.stderr);
      const [head, ...rows] = lines(r.stdout);
      assert.match(head!, /^NODE\s+STATUS\s+CLIENT\s+HOST\s+CPU\s+SERVICES$/);
      assert.equal(rows.length, 1, r.stdout);
      assert.match(
        rows[0]!,
        /^svc-node\s+online\s+deno \d+\.\d+\.\d+\s+.*audit, greeter, math$/,
      );
    },
  );

  await t.step("nodes --json prints $node.list with services", async () => {
    const r = await runCliOnce(["nodes", "--json", ...ops]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout);
    assert.equal(list.length, 1);
    assert.equal(list[0].id, "svc-node");
    assert.ok(
      list[0].services.some((s: { name: string }) => s.name === "math"),
    );
  });

  await t.step("another namespace sees nothing", async () => {
    const r = await runCliOnce([
      "nodes",
      "-t",
      nats.url,
      "-n",
      "elsewhere",
      "--wait",
      "200",
    ]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /No other node answered/);
  });

  node.signal("SIGTERM");
  assert.equal(await node.code, 0);
});

Deno.test("cli call: no transporter is a usage error, an unreachable one exits 1", async () => {
  const none = await runCliOnce(["call", "math.add"]);
  assert.equal(none.code, 2);
  assert.match(
    none.stderr,
    /call needs a cluster: pass -t nats:\/\/127\.0\.0\.1:4222/,
  );
  const port = freePort();
  const down = await runCliOnce(["nodes", "-t", `nats://127.0.0.1:${port}`]);
  assert.equal(down.code, 1);
  assert.equal(lines(down.stderr).length, 1);
  assert.match(
    down.stderr,
    new RegExp(`nats://127\\.0\\.0\\.1:${port}: connection refused`),
  );
});

Deno.test("cli: the transporter's connection is logged, and a nodeID clash says to use -b", async () => {
  await using nats = await startNatsServer();
  await using dir = await tempDir();
  await dir.write("services/greeter.ts", GREETER_SERVICE);
  await using first = spawnCli(["services", "-t", nats.url, "-b", "twin"], {
    cwd: dir.path,
  });
  await first.waitFor(`RUNNER: Transporter connected: ${nats.url}`);
  await first.waitFor(
    "Node 'twin' is ready with 2 service(s) (greeter, $node)",
  );
  const second = await runCliOnce(["services", "-t", nats.url, "-b", "twin"], {
    cwd: dir.path,
  });
  assert.equal(second.code, 1, second.stderr);
  assert.match(
    second.stderr,
    /RUNNER: Cannot start node 'twin': Another node already runs with the nodeID 'twin'.*\(use -b <nodeID>, or NODEID=…, to start this one under another nodeID\)/,
  );
  first.signal("SIGTERM");
  assert.equal(await first.code, 0);
});

Deno.test("cli types: no other node is exit 1 with one line; to stdout without -o", async () => {
  await using nats = await startNatsServer();
  const none = await runCliOnce(["types", "-t", nats.url, "--wait", "100"]);
  assert.equal(none.code, 1, none.stderr);
  assert.equal(lines(none.stderr).length, 1);
  assert.match(none.stderr, /No other node answered: nothing to declare/);

  await using dir = await tempDir();
  await dir.write("services/greeter.ts", GREETER_SERVICE);
  await using node = spawnCli(["services", "-t", nats.url, "-b", "typed"], {
    cwd: dir.path,
  });
  await node.waitFor("is ready");
  const out = await runCliOnce([
    "types",
    "-t",
    nats.url,
    "--module",
    "./mod.ts",
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^\/\/ Nodes: typed \(deno /m);
  assert.match(out.stdout, /^declare module "\.\/mod\.ts" \{$/m);
  assert.match(
    out.stdout,
    /"greeter\.hello": \{\n {6}params: \{\n {8}name: string;/,
  );
  node.signal("SIGTERM");
  assert.equal(await node.code, 0);
});
