import { strict as assert } from "node:assert";
import { ServiceBroker } from "../../mod.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { spawnCli, tempDir } from "./_helpers.ts";

const version = (n: number) =>
  `export default { name: "counter", actions: { version: () => ${n} } };\n`;

/** Call until the result is `expected` (the caller learns of a reload by the node's INFO). */
async function eventually(
  broker: ServiceBroker,
  action: string,
  expected: unknown,
) {
  const deadline = Date.now() + 5000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      last = await broker.call(action);
      if (last === expected) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${action} did not return ${expected}; last: ${last}`);
}

Deno.test("cli --hot: an edited file is reloaded, a broken one keeps the old version, a new one is loaded", async () => {
  await using nats = await startNatsServer();
  await using dir = await tempDir();
  await dir.write("services/counter.service.ts", version(1));
  await using cli = spawnCli(["services", "-t", nats.url, "--hot"], {
    cwd: dir.path,
    // Re-announce changed services quickly (Moleculer's env grammar).
    env: { TRANSIT_SERVICECHANGEDDEBOUNCETIME: "20" },
  });
  await cli.waitFor("Hot reload: watching services");
  const caller = new ServiceBroker({
    nodeID: "caller",
    transporter: nats.url,
    logger: false,
  });
  await caller.start();
  try {
    await caller.waitForServices("counter", 5000);
    assert.equal(await caller.call("counter.version"), 1);

    let at = cli.offset;
    await dir.replace("services/counter.service.ts", version(2));
    at = await cli.waitFor("Reloaded services/counter.service.ts: counter", {
      from: at,
    });
    await eventually(caller, "counter.version", 2);

    await dir.replace(
      "services/counter.service.ts",
      "export default { name: ;\n",
    );
    at = await cli.waitFor(
      /ERROR .*Hot reload of services\/counter\.service\.ts failed, the running version stays: SyntaxError/,
      { from: at },
    );
    assert.equal(await caller.call("counter.version"), 2);

    await dir.replace(
      "services/counter.service.ts",
      'throw new Error("not today");\n',
    );
    at = await cli.waitFor(/failed, the running version stays: not today/, {
      from: at,
    });
    assert.equal(await caller.call("counter.version"), 2);

    await dir.write(
      "services/extra/echo.service.ts",
      'export default { name: "echo", actions: { say: (ctx: any) => ctx.params.text } };\n',
    );
    at = await cli.waitFor("Loaded services/extra/echo.service.ts: echo", {
      from: at,
    });
    await caller.waitForServices("echo", 5000);
    assert.equal(await caller.call("echo.say", { text: "hi" }), "hi");

    await dir.write("services/_shared.ts", "export const x = 2;\n");
    await cli.waitFor(
      "services/_shared.ts changed but is not a service module",
      { from: at },
    );
  } finally {
    await caller.stop();
  }
  cli.signal("SIGTERM");
  assert.equal(await cli.code, 0);
});
