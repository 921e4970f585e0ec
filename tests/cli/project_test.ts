/**
 * A user's project outside the checkout, set up as README's "Use it in your project" says: a
 * `deno.json` that links the checkout, code importing `@denolecular/denolecular`, and a services
 * folder run by the CLI from the project (and from a folder with no deno.json at all).
 */

import { strict as assert } from "node:assert";
import { fileURLToPath } from "node:url";
import { spawnCli, tempDir } from "./_helpers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const SERVICE = `import { action, type Context, Service } from "@denolecular/denolecular";
export class Greeter extends Service {
  constructor() { super({ name: "greeter" }); }
  @action({ params: { name: "string" } })
  hello(ctx: Context<{ name: string }>): string { return \`Hello, \${ctx.params.name}!\`; }
}
`;

const APP = `import { ServiceBroker } from "@denolecular/denolecular";
import { Greeter } from "./services/greeter.ts";
const broker = new ServiceBroker({ logger: false });
await broker.register(new Greeter());
await broker.start();
console.log(await broker.call("greeter.hello", { name: "project" }));
await broker.stop();
`;

async function run(args: string[], cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

Deno.test("project: a linked checkout is imported by name and its services run by the CLI", async () => {
  await using dir = await tempDir();
  await dir.write("deno.json", JSON.stringify({ links: [ROOT] }));
  await dir.write("services/greeter.ts", SERVICE);
  await dir.write("app.ts", APP);
  const app = await run(["run", "-A", "app.ts"], dir.path);
  assert.equal(app.code, 0, app.stderr);
  assert.equal(app.stdout.trim(), "Hello, project!");

  await using cli = spawnCli(["services", "-b", "project-node"], {
    cwd: dir.path,
  });
  await cli.waitFor(
    "Node 'project-node' is ready with 2 service(s) (greeter, $node) local only",
  );
  cli.signal("SIGTERM");
  assert.equal(await cli.code, 0);
});

Deno.test("project: the CLI runs a services folder that has no deno.json", async () => {
  await using dir = await tempDir();
  await dir.write("services/greeter.ts", SERVICE);
  await using cli = spawnCli(["services"], { cwd: dir.path });
  await cli.waitFor(
    /is ready with 2 service\(s\) \(greeter, \$node\) local only/,
  );
  cli.signal("SIGTERM");
  assert.equal(await cli.code, 0);
});

Deno.test("project: a path import without deno.json fails naming the dependency; links fixes it", async () => {
  await using dir = await tempDir();
  await dir.write(
    "app.ts",
    `import { ServiceBroker } from "${ROOT}mod.ts";\nconsole.log(typeof ServiceBroker);\n`,
  );
  const bare = await run(["run", "-A", "app.ts"], dir.path);
  assert.notEqual(bare.code, 0);
  assert.match(bare.stderr, /Import "@logtape\/logtape" not a dependency/);
  await dir.write("deno.json", JSON.stringify({ links: [ROOT] }));
  const linked = await run(["run", "-A", "app.ts"], dir.path);
  assert.equal(linked.code, 0, linked.stderr);
  assert.equal(linked.stdout.trim(), "function");
});
