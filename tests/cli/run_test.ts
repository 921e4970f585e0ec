import { strict as assert } from "node:assert";
import { ServiceBroker } from "../../mod.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { GREETER_SERVICE, MATH_SERVICE, spawnCli, tempDir } from "./_helpers.ts";

Deno.test("cli: services of both styles in a directory are called from another broker over NATS", async () => {
  await using nats = await startNatsServer();
  await using dir = await tempDir();
  await dir.write("services/greeter.service.ts", GREETER_SERVICE);
  await dir.write("services/nested/math.service.ts", MATH_SERVICE);
  await dir.write(
    "services/echo.ts",
    `import { Service } from "{{MOD}}";
export const echo = new Service({ name: "echo", version: 2, actions: { say: (ctx: any) => ctx.params } });`,
  );
  await dir.write("services/util.ts", "export const answer = 42;");
  await dir.write(
    "services/_shared.ts",
    "throw new Error('helpers are not loaded');",
  );
  await dir.write(
    "services/greeter_test.ts",
    "throw new Error('tests are not loaded');",
  );
  await dir.write("services/types.d.ts", "export type X = 1;");
  await dir.write(
    "services/node_modules/x/index.js",
    "throw new Error('node_modules skipped');",
  );

  await using cli = spawnCli([
    "services",
    "-t",
    nats.url,
    "-b",
    "cli-node",
    "-n",
    "it",
  ], {
    cwd: dir.path,
  });
  await cli.waitFor(
    /Node 'cli-node' is ready with 4 service\(s\) \(v2\.echo, greeter, math, \$node\)/,
  );
  assert.match(cli.stderr, /WARN .*services\/util\.ts exports no service/);
  assert.match(
    cli.stderr,
    new RegExp(`on ${nats.url.replaceAll(".", "\\.")}, namespace 'it'`),
  );

  const caller = new ServiceBroker({
    nodeID: "caller",
    namespace: "it",
    transporter: nats.url,
    logger: false,
  });
  await caller.start();
  try {
    await caller.waitForServices(["greeter", "math", "v2.echo"], 5000);
    assert.equal(
      await caller.call("greeter.hello", { name: "Deno" }),
      "Hello, Deno!",
    );
    assert.equal(await caller.call("math.add", { a: 2, b: 3 }), 5);
    assert.deepEqual(await caller.call("v2.echo.say", { x: 1 }), { x: 1 });
    await assert.rejects(caller.call("math.add", { a: "x", b: 1 }), {
      name: "ValidationError",
    });
    assert.equal(caller.registry.nodes.get("cli-node")?.client.type, "deno");
  } finally {
    await caller.stop();
  }
  cli.signal("SIGTERM");
  assert.equal(await cli.code, 0);
  assert.match(cli.stderr, /Received SIGTERM: stopping/);
});

Deno.test("cli: a glob, a single file and --mask choose the modules", async () => {
  await using dir = await tempDir();
  await dir.write("src/a/greeter.service.ts", GREETER_SERVICE);
  await dir.write("src/b/math.service.ts", MATH_SERVICE);
  await dir.write(
    "src/b/tool.ts",
    "throw new Error('not matched by the mask');",
  );
  await dir.write(
    "extra/echo.ts",
    'export default { name: "echo", actions: { say: () => 1 } };',
  );

  {
    await using cli = spawnCli(["src/**/*.service.ts", "extra/echo.ts"], {
      cwd: dir.path,
    });
    await cli.waitFor(
      /is ready with 4 service\(s\) \(greeter, math, echo, \$node\) local only/,
    );
    assert.match(
      cli.stderr,
      /No transporter: this node runs local-only\. .*-t nats:\/\/127\.0\.0\.1:4222/,
    );
    cli.signal("SIGINT");
    assert.equal(await cli.code, 0);
  }
  {
    await using cli = spawnCli(["src", "--mask", "*.service.ts"], {
      cwd: dir.path,
    });
    await cli.waitFor(/is ready with 3 service\(s\) \(greeter, math, \$node\)/);
    cli.signal("SIGTERM");
    assert.equal(await cli.code, 0);
  }
  {
    // A name without extension finds <name>.service.ts.
    await using cli = spawnCli(["src/a/greeter", "-b", "short"], {
      cwd: dir.path,
    });
    await cli.waitFor(
      /Node 'short' is ready with 2 service\(s\) \(greeter, \$node\)/,
    );
    cli.signal("SIGTERM");
    assert.equal(await cli.code, 0);
  }
});

Deno.test("cli: the default node ID is node-<directory name>, sanitised", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/my app.v2`);
  await dir.write("my app.v2/greeter.service.ts", GREETER_SERVICE);
  await using cli = spawnCli(["."], { cwd: `${dir.path}/my app.v2` });
  await cli.waitFor("Node 'node-my-app-v2' is ready");
  cli.signal("SIGTERM");
  assert.equal(await cli.code, 0);
});

Deno.test("cli: examples/services run as documented", async () => {
  await using nats = await startNatsServer();
  const examples = new URL("../../examples/services", import.meta.url).pathname;
  await using cli = spawnCli([examples, "-t", nats.url, "-b", "examples"]);
  await cli.waitFor(
    /Node 'examples' is ready with 4 service\(s\) \(greeter, listener, math, \$node\)/,
  );
  const caller = new ServiceBroker({
    nodeID: "caller",
    transporter: nats.url,
    logger: false,
  });
  await caller.start();
  try {
    await caller.waitForServices(["greeter", "math", "listener"], 5000);
    assert.equal(
      await caller.call("greeter.hello", { name: "John" }),
      "Hello, John!",
    );
    assert.equal(await caller.call("math.add", { a: 2, b: 3 }), 5);
    await assert.rejects(
      caller.call("math.div", { a: 1, b: 0 }),
      /Cannot divide by zero/,
    );
    assert.match(
      await caller.call<string>("greeter.welcome", { name: "Ann" }),
      /^Welcome, Ann! You are visitor #2\.$/,
    );
    await caller.emit("user.created", { name: "Bob" });
    await cli.waitFor("user.created from caller");
    const seen = await caller.call<Array<{ event: string }>>("listener.seen");
    assert.deepEqual(seen.map((s) => s.event), [
      "greeter.welcomed",
      "user.created",
    ]);
  } finally {
    await caller.stop();
  }
  cli.signal("SIGTERM");
  assert.equal(await cli.code, 0);
});
