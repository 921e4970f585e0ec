import { strict as assert } from "node:assert";
import { ServiceBroker } from "../../mod.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { spawnCli, tempDir } from "./_helpers.ts";

const SLOW_SERVICE = `export default {
  name: "slow",
  actions: {
    async work(ctx: any) {
      this.logger.info(\`slow: started \${ctx.params.ms} ms\`);
      await new Promise((r) => setTimeout(r, ctx.params.ms));
      return { done: ctx.params.ms };
    },
  },
};
`;

async function setup(
  nats: { url: string },
  dir: { write(n: string, t: string): Promise<void> },
) {
  await dir.write("services/slow.service.ts", SLOW_SERVICE);
  const caller = new ServiceBroker({
    nodeID: "caller",
    transporter: nats.url,
    logger: false,
  });
  await caller.start();
  return caller;
}

Deno.test("cli: SIGTERM during a slow request lets it finish, then exits 0", async () => {
  await using nats = await startNatsServer();
  await using dir = await tempDir();
  const caller = await setup(nats, dir);
  try {
    await using cli = spawnCli(
      ["services", "-t", nats.url, "-b", "slow-node"],
      { cwd: dir.path },
    );
    await cli.waitFor("is ready");
    await caller.waitForServices("slow", 5000);
    const result = caller.call("slow.work", { ms: 800 }, { timeout: 10_000 });
    await cli.waitFor("slow: started 800 ms");
    cli.signal("SIGTERM");
    await cli.waitFor("Received SIGTERM: stopping; 1 request(s) in flight");
    assert.deepEqual(await result, { done: 800 });
    assert.equal(await cli.code, 0);
    assert.match(cli.stderr, /ServiceBroker 'slow-node' stopped/);
    assert.doesNotMatch(cli.stderr, /still running/);
  } finally {
    await caller.stop();
  }
});

Deno.test("cli: --shutdown-timeout bounds the wait for in-flight requests", async () => {
  await using nats = await startNatsServer();
  await using dir = await tempDir();
  const caller = await setup(nats, dir);
  try {
    await using cli = spawnCli([
      "services",
      "-t",
      nats.url,
      "--shutdown-timeout",
      "200",
    ], {
      cwd: dir.path,
    });
    await cli.waitFor("is ready");
    await caller.waitForServices("slow", 5000);
    const result = caller.call("slow.work", { ms: 30_000 }).catch((e: Error) => e);
    await cli.waitFor("slow: started");
    cli.signal("SIGINT");
    await cli.waitFor(
      "1 request(s) still running after 200 ms: stopping anyway",
    );
    assert.equal(await cli.code, 0);
    await caller.stop(); // rejects the abandoned request
    assert.ok((await result) instanceof Error);
  } finally {
    await caller.stop();
  }
});

Deno.test("cli: a second signal during shutdown exits at once with 128 + signal", async () => {
  await using nats = await startNatsServer();
  await using dir = await tempDir();
  const caller = await setup(nats, dir);
  try {
    await using cli = spawnCli(["services", "-t", nats.url], { cwd: dir.path });
    await cli.waitFor("is ready");
    await caller.waitForServices("slow", 5000);
    const result = caller.call("slow.work", { ms: 30_000 }).catch((e: Error) => e);
    await cli.waitFor("slow: started");
    cli.signal("SIGTERM");
    await cli.waitFor("Received SIGTERM: stopping");
    cli.signal("SIGTERM");
    assert.equal(await cli.code, 143);
    assert.match(cli.stderr, /Received SIGTERM again: exiting at once/);
    await caller.stop();
    assert.ok((await result) instanceof Error);
  } finally {
    await caller.stop();
  }
});
