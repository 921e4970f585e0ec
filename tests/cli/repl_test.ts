/**
 * The REPL against a real cluster: a Moleculer 0.15 node and Denolecular nodes over a private
 * NATS server. One session on stdin (`--repl` on a node with services and a cacher) runs every
 * command and checks what it prints; one in a pseudo-terminal (`denolecular repl`) checks tab
 * completion, history and Ctrl+C.
 */

import { strict as assert } from "node:assert";
import { requirePeers, startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { canUsePty, type CliProcess, runCliOnce, spawnCli, tempDir } from "./_helpers.ts";

const PROMPT = "mol $ ";
const NS = "repl";

/** A cached action and an event listener on the REPL's own node. */
const STORE_SERVICE = `export default {
  name: "store",
  actions: {
    get: {
      cache: true,
      params: { id: "number" },
      handler: (ctx: any) => ({ id: ctx.params.id, name: "item" + ctx.params.id }),
    },
  },
  events: { "order.*"() {} },
};
`;

/** Send one line, wait for the next prompt, return what the command printed. */
async function send(
  repl: CliProcess,
  line: string,
  timeout = 15_000,
): Promise<string> {
  const from = repl.offset;
  await repl.write(`${line}\n`);
  const end = await repl.waitFor(PROMPT, { from, timeout });
  return repl.output.slice(from, end - PROMPT.length);
}

/** The rows of a table whose first cell is `first`, as arrays of trimmed cells. */
function rowsOf(table: string, first: string): string[][] {
  return table.split("\n")
    .filter((l) => l.startsWith("│"))
    .map((l) => l.split("│").slice(1, -1).map((c) => c.trim()))
    .filter((cells) => cells[0] === first);
}

Deno.test("repl: every command against a cluster with a Moleculer 0.15 node", async (t) => {
  requirePeers();
  await using nats = await startNatsServer();
  await using peer = await startMoleculerPeer({
    version: "0.15",
    nodeID: "mol-node",
    transporter: nats.url,
    namespace: NS,
  });
  await using dir = await tempDir();
  await dir.write("services/store.service.ts", STORE_SERVICE);
  await dir.write("params.json", '{"a": 20, "b": 22}');
  await using repl = spawnCli(
    ["services", "--repl", "-t", nats.url, "-n", NS, "-b", "repl-node"],
    {
      cwd: dir.path,
      env: { CACHER: "Memory", API_TOKEN: "s3cret-value" },
      stdin: true,
    },
  );
  await repl.waitFor(PROMPT);
  await peer.waitForServices("store");

  await t.step(
    "help lists the commands; help <command> its options",
    async () => {
      const out = await send(repl, "help");
      for (
        const usage of [
          "call <actionName> [jsonParams] [meta] [options]",
          "dcall <nodeID> <actionName> [jsonParams] [meta]",
          "bench <actionName>",
          "listener add <eventName>",
          "cache keys",
          "cache clear [pattern]",
          "nodes [options]",
          "exit",
        ]
      ) assert.ok(out.includes(usage), `help lacks ${usage}:\n${out}`);
      const nodes = await send(repl, "help nodes");
      assert.match(nodes, /-a, --all\s+list all \(offline\) nodes/);
      assert.match(nodes, /--raw\s+print the registry's nodes as JSON/);
    },
  );

  await t.step("nodes, nodes -d, nodes --raw, nodes -a", async () => {
    const out = await send(repl, "nodes");
    assert.match(
      out,
      /│ Node ID\s+│ Services │ Version │ Client │ IP\s+│ State\s+│ CPU/,
    );
    assert.deepEqual(rowsOf(out, "mol-node")[0]?.slice(1, 4), [
      "4",
      "0.15.2",
      "nodejs",
    ]);
    assert.deepEqual(rowsOf(out, "repl-node (*)")[0]?.slice(1, 4), [
      "2",
      "0.1.0",
      "deno",
    ]);
    assert.equal(rowsOf(out, "mol-node")[0]?.[5], "ONLINE");

    const details = await send(repl, "nodes -d");
    const serviceRows = rowsOf(details, "").map((cells) => cells[1]);
    for (const s of ["nodemath", "v2.greeter", "nodelistener", "store"]) {
      assert.ok(serviceRows.includes(s), `nodes -d lacks ${s}:\n${details}`);
    }
    assert.deepEqual(
      rowsOf(details, "").find((c) => c[1] === "v2.greeter")?.[2],
      "2",
    );

    assert.match(
      await send(repl, "nodes --save"),
      /Node list has been saved to '.*nodes\.json' file\./,
    );
    const saved = JSON.parse(await Deno.readTextFile(`${dir.path}/nodes.json`));
    assert.deepEqual(saved.map((n: { id: string }) => n.id), [
      "mol-node",
      "repl-node",
    ]);
    const raw = JSON.parse(await send(repl, "nodes --raw"));
    const mol = raw.find((n: { id: string }) => n.id === "mol-node");
    assert.equal(mol.client.type, "nodejs");
    assert.ok(
      mol.services.some((s: { name: string }) => s.name === "nodemath"),
    );

    // A short-lived node joins and leaves: `nodes` hides it, `nodes -a` shows it offline.
    const gone = await runCliOnce([
      "call",
      "store.get",
      '{"id": 9}',
      "-t",
      nats.url,
      "-n",
      NS,
      "-b",
      "cli-gone",
    ]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual(JSON.parse(gone.stdout), { id: 9, name: "item9" });
    assert.equal(rowsOf(await send(repl, "nodes"), "cli-gone").length, 0);
    assert.equal(
      rowsOf(await send(repl, "nodes -a"), "cli-gone")[0]?.[5],
      "OFFLINE",
    );
    assert.equal(
      rowsOf(await send(repl, "nodes -a -f mol-*"), "repl-node (*)").length,
      0,
    );
  });

  await t.step("services, actions, events and their flags", async () => {
    const services = await send(repl, "services");
    assert.deepEqual(rowsOf(services, "nodemath")[0], [
      "nodemath",
      "-",
      "OK",
      "7",
      "0",
      "1",
    ]);
    assert.deepEqual(rowsOf(services, "greeter")[0], [
      "greeter",
      "2",
      "OK",
      "1",
      "0",
      "1",
    ]);
    assert.deepEqual(rowsOf(services, "store")[0], [
      "store",
      "-",
      "OK",
      "1",
      "1",
      "(*) 1",
    ]);
    assert.deepEqual(rowsOf(services, "$node")[0]?.[5], "(*) 2");
    const own = await send(repl, "services -l -i");
    assert.equal(
      rowsOf(own, "nodemath").length + rowsOf(own, "$node").length,
      0,
    );
    assert.equal(rowsOf(own, "store").length, 1);
    const detailed = await send(repl, "services -d -f nodemath");
    assert.deepEqual(rowsOf(detailed, "")[0], [
      "",
      "",
      "OK",
      "",
      "",
      "mol-node",
    ]);

    const actions = await send(repl, "actions");
    assert.deepEqual(rowsOf(actions, "nodemath.add")[0], [
      "nodemath.add",
      "1",
      "OK",
      "No",
      "a, b",
    ]);
    assert.deepEqual(rowsOf(actions, "store.get")[0], [
      "store.get",
      "(*) 1",
      "OK",
      "Yes",
      "id",
    ]);
    assert.deepEqual(rowsOf(actions, "v2.greeter.hello")[0]?.[4], "name");
    const filtered = await send(repl, "actions -i -d -f v2.greeter.*");
    assert.equal(rowsOf(filtered, "$node.list").length, 0);
    assert.deepEqual(rowsOf(filtered, ""), [["", "mol-node", "OK", "", ""]]);

    const events = await send(repl, "events");
    assert.deepEqual(rowsOf(events, "user.created")[0], [
      "user.created",
      "grp-node",
      "OK",
      "1",
      "",
    ]);
    assert.deepEqual(rowsOf(events, "order.*")[0], [
      "order.*",
      "store",
      "OK",
      "(*) 1",
      "",
    ]);
    assert.equal(
      rowsOf(await send(repl, "events -l"), "user.created").length,
      0,
    );
  });

  await t.step("info and env (secrets masked)", async () => {
    const info = await send(repl, "info");
    assert.match(info, /Node ID\s+: repl-node/);
    assert.match(info, /Namespace\s+: repl/);
    assert.match(info, /Deno version\s+: \d+\.\d+\.\d+/);
    assert.match(info, /Cacher\s+: MemoryCacher/);
    assert.match(info, new RegExp(`Transporter\\s+: ${nats.url}`));
    assert.match(info, /Nodes\s+: 3/);
    const env = await send(repl, "env");
    assert.deepEqual(rowsOf(env, "CACHER")[0], ["CACHER", "Memory"]);
    assert.deepEqual(rowsOf(env, "API_TOKEN")[0], ["API_TOKEN", "***"]);
    assert.ok(!env.includes("s3cret-value"));
    assert.deepEqual(rowsOf(await send(repl, "env -f API_*"), "CACHER"), []);
  });

  await t.step(
    "call: --key value params, JSON, @file, #meta, $timeout, errors",
    async () => {
      const add = await send(repl, "call nodemath.add --a 5 --b 3");
      assert.match(
        add,
        /^>> Call 'nodemath\.add' with params: \{ a: 5, b: 3 \} with meta: \{ "\$repl": true \}$/m,
      );
      assert.match(add, /^>> Execution time: [\d.]+(μs|ms|s)$/m);
      assert.match(add, />> Response:\n8\n/);

      const echo = await send(
        repl,
        "call nodemath.echo --a 5 --b.c x --no-d --e.f 0x75 --#tenant acme --$timeout 2000",
      );
      assert.match(echo, /with options: \{ timeout: 2000 \}/);
      assert.match(
        echo,
        /params: \{ a: 5, b: \{ c: "x" \}, d: false, e: \{ f: "0x75" \} \}/,
      );
      assert.match(echo, /meta: \{ tenant: "acme", "\$repl": true \}/);
      assert.match(echo, /nodeID: "repl-node"/);

      assert.match(
        await send(repl, `call nodemath.add '{"a": 1, "b": 2}'`),
        />> Response:\n3\n/,
      );
      assert.match(
        await send(repl, "call nodemath.add @params.json"),
        />> Response:\n42\n/,
      );
      const meta = await send(
        repl,
        `call nodemath.echo '{"x": 1}' '{"user": "ann"}'`,
      );
      assert.match(meta, /meta: \{ user: "ann", "\$repl": true \}/);

      const timeout = await send(
        repl,
        "call nodemath.slow --ms 2000 --$timeout 100",
      );
      assert.match(
        timeout,
        />> ERROR: RequestTimeoutError: .*nodemath\.slow.*\(code 504, type REQUEST_TIMEOUT/,
      );
      const invalid = await send(repl, "call nodemath.add --a x");
      assert.match(
        invalid,
        />> ERROR: ValidationError: .*\(code 422, type VALIDATION_ERROR, node mol-node\)/,
      );
      assert.match(invalid, /message: "The 'a' field must be a number\."/);
      const teapot = await send(repl, "call nodemath.fail");
      assert.match(
        teapot,
        />> ERROR: MoleculerClientError: bad thing \(code 418, type TEAPOT, node mol-node\)\nData: \{ x: 1 \}/,
      );
      assert.match(
        await send(repl, "call nope.nothing"),
        />> ERROR: ServiceNotFoundError: .*nope\.nothing/,
      );
      assert.match(
        await send(repl, "call nodemath.add @missing.json"),
        /call: params file not found: .*missing\.json/,
      );
      assert.match(
        await send(repl, "call nodemath.add '{bad'"),
        /call: the params argument is not valid JSON/,
      );

      await send(repl, "call nodemath.add --a 1 --b 1 --save sum.txt");
      assert.equal(await Deno.readTextFile(`${dir.path}/sum.txt`), "2");
      assert.match(
        await send(repl, "call nodemath.add --load params.json"),
        />> Load params from '.*params\.json' file\.\n[^]*>> Response:\n42\n/,
      );
      await Deno.writeTextFile(
        `${dir.path}/full.json`,
        '{"params": {"a": 1}, "meta": {"k": 2}, "options": {"timeout": 3000}}',
      );
      const full = await send(repl, "call nodemath.echo --loadFull full.json");
      assert.match(
        full,
        /with params: \{ a: 1 \} with meta: \{ k: 2, "\$repl": true \} with options: \{ timeout: 3000 \}/,
      );
      assert.match(
        await send(repl, "call store.get --id 3 --$local"),
        /^>> Call 'store\.get' on repl-node with params: \{ id: 3 \}/m,
      );
    },
  );

  await t.step(
    "dcall calls the named node, and refuses an unknown one",
    async () => {
      const out = await send(repl, "dcall mol-node nodemath.echo --a 2");
      assert.match(
        out,
        /^>> Call 'nodemath\.echo' on mol-node with params: \{ a: 2 \}/m,
      );
      assert.match(out, /params: \{ a: 2 \}/);
      assert.match(
        await send(repl, "dcall nowhere nodemath.add"),
        /^>> Node 'nowhere' is not available\.$/m,
      );
    },
  );

  await t.step(
    "emit and broadcast reach the Moleculer node with payload and meta",
    async () => {
      const emitted = await send(repl, "emit user.created --id 7 --#src repl");
      assert.match(
        emitted,
        /^>> Emit 'user\.created' with payload: \{ id: 7 \} with meta: \{ src: "repl", "\$repl": true \}$/m,
      );
      assert.match(emitted, /Listeners on 1 node\(s\): mol-node/);
      const got = await peer.waitForEvent((e) =>
        e.event === "user.created" && e.handler === "user.created"
      );
      assert.deepEqual(got.data, { id: 7 });
      assert.equal(got.meta?.src, "repl");
      assert.equal(got.nodeID, "repl-node");

      await send(repl, `broadcast broadcast.test '{"x": [1, 2]}'`);
      const b = await peer.waitForEvent((e) => e.event === "broadcast.test");
      assert.deepEqual(b.data, { x: [1, 2] });
      assert.equal(b.eventType, "broadcast");
      assert.match(
        await send(repl, "emit nobody.listens"),
        /No node listens to 'nobody\.listens'/,
      );
      const local = await send(repl, "broadcastLocal order.created --id 1");
      assert.match(
        local,
        /^>> Broadcast locally 'order\.created' with payload: \{ id: 1 \}/m,
      );
      assert.match(local, /Listeners on 1 node\(s\): repl-node/);
    },
  );

  await t.step(
    "listener add/list/remove prints the events the cluster sends",
    async () => {
      assert.match(
        await send(repl, "listener add deno.hello"),
        /REPL started listening to event: deno\.hello/,
      );
      assert.match(
        await send(repl, "listener add user.* --group audit"),
        /REPL started listening to event: user\.\* belonging to group: audit/,
      );
      const list = await send(repl, "listener list");
      assert.deepEqual(rowsOf(list, "deno.hello")[0], [
        "deno.hello",
        "$repl-event-listener",
      ]);
      assert.deepEqual(rowsOf(list, "user.*")[0], ["user.*", "audit"]);

      await peer.waitForServices("$repl-event-listener");
      const at = repl.offset;
      await peer.emit("deno.hello", { n: 1 }, { meta: { from: "node" } });
      await repl.waitFor(
        /Listener 'deno\.hello' received 'deno\.hello' from mol-node with params: \{ n: 1 \} with meta: \{ from: "node" \}/,
        { from: at },
      );
      assert.match(
        await send(repl, "listener remove deno.hello"),
        /REPL stopped listening to: deno\.hello/,
      );
      assert.match(
        await send(repl, "listener remove deno.hello"),
        /Event listener 'deno\.hello' not found/,
      );
      const after = await send(repl, "listener list");
      assert.equal(rowsOf(after, "deno.hello").length, 0);
      assert.equal(rowsOf(after, "user.*").length, 1);
    },
  );

  await t.step(
    "bench by count and concurrency, and by time, with a summary",
    async () => {
      const byCount = await send(
        repl,
        "bench nodemath.add --a 1 --b 2 --num 200 --concurrency 4",
      );
      assert.match(
        byCount,
        />> Call 'nodemath\.add' x 200 times, concurrency 4, with params: \{ a: 1, b: 2 \}/,
      );
      assert.match(
        byCount,
        /Benchmark result:\n\n {2}200 requests in [\d.]+(μs|ms|s), 0 error\n/,
      );
      assert.match(byCount, /Requests\/sec: [\d,]+/);
      for (const k of ["Avg", "Min", "p50", "p90", "p99", "Max"]) {
        assert.match(byCount, new RegExp(`${k}:\\s+[\\d.]+(μs|ms|s)`));
      }
      const byTime = await send(
        repl,
        `bench nodemath.add '{"a": 1}' --time 0.3`,
      );
      assert.match(byTime, /for 0\.3 second\(s\)/);
      assert.match(
        byTime,
        / [\d,]+ requests in [\d.]+(ms|s), [\d,]+ error\(s\) 100\.0%/,
      );
      assert.match(byTime, /First error:\n>> ERROR: ValidationError/);
      assert.match(
        await send(repl, "bench nodemath.add --num 0"),
        /bench: --num needs a whole number > 0/,
      );
    },
  );

  await t.step(
    "cache keys, cache clear, clear; metrics; cls; unknown input",
    async () => {
      await send(repl, "call store.get --id 1");
      await send(repl, "call store.get --id 2");
      const keys = await send(repl, "cache keys");
      assert.deepEqual(rowsOf(keys, "store.get:id|1")[0], [
        "store.get:id|1",
        "never",
      ]);
      assert.equal(rowsOf(keys, "store.get:id|2").length, 1);
      assert.equal(
        rowsOf(await send(repl, "cache keys -f nothing.*"), "store.get:id|1")
          .length,
        0,
      );
      assert.match(
        await send(repl, "cache clear store.get:id|1"),
        /Cacher cleared entries by pattern\./,
      );
      const left = await send(repl, "cache keys");
      assert.equal(rowsOf(left, "store.get:id|1").length, 0);
      assert.equal(rowsOf(left, "store.get:id|2").length, 1);
      const clear = await send(repl, "clear");
      assert.match(
        clear,
        /The 'clear' command is deprecated\. Use the 'cache clear' instead\.\nCacher cleared all entries\./,
      );
      assert.equal(
        rowsOf(await send(repl, "cache keys"), "store.get:id|2").length,
        0,
      );

      assert.match(await send(repl, "metrics"), /metrics are not enabled/);
      assert.ok((await send(repl, "cls")).includes("\x1b[2J"));
      assert.match(
        await send(repl, "nonsense"),
        /Unknown command 'nonsense'\. Type 'help' to see the commands\./,
      );
      assert.match(
        await send(repl, "nodes --bogus"),
        /nodes: unknown option '--bogus' \(see help nodes\)/,
      );
      assert.match(
        await send(repl, "cache"),
        /cache: needs one of: keys, clear/,
      );
      assert.match(
        await send(repl, `call nodemath.add '{"a": 1`),
        /call: unclosed ' quote/,
      );
    },
  );

  await t.step("exit stops the node gracefully", async () => {
    const at = repl.offset;
    await repl.write("exit\n");
    assert.equal(await repl.code, 0);
    assert.match(repl.output.slice(at), /The REPL was closed: stopping/);
    assert.match(repl.output.slice(at), /ServiceBroker 'repl-node' stopped/);
  });

  await t.step(
    "denolecular repl in a terminal: completion, history, Ctrl+C",
    async () => {
      if (!(await canUsePty())) {
        throw new Error(
          "the terminal test needs `script` (util-linux): apt-get install bsdutils",
        );
      }
      const history = `${dir.path}/history`;
      await Deno.writeTextFile(history, "services\n");
      await using term = spawnCli(["repl", "-t", nats.url, "-n", NS], {
        pty: true,
        env: { DENOLECULAR_REPL_HISTORY: history },
      });
      let at = await term.waitFor(PROMPT);
      // Type like a user: after a command (Enter), wait for its output and the next prompt.
      const type = async (
        text: string,
        until: RegExp | string,
        prompt = text.endsWith("\r"),
      ) => {
        await term.write(text);
        at = await term.waitFor(until, { from: at });
        if (prompt) at = await term.waitFor(PROMPT, { from: at });
      };
      await type("nod\t", "nodes ");
      await type("\r", /│ mol-node\s+│\s+4 │\s+0\.15\.2 │ nodejs/);
      await type("call nodemath.a\t", "call nodemath.add ");
      await type("--a 1 --b 1\r", />> Response:\r?\n2\r?\n/);
      await type("\x1b[A", "call nodemath.add --a 1 --b 1");
      await type("\r", />> Response:\r?\n2\r?\n/);
      await type("dcall mol-\t", "dcall mol-node ");
      await type("v2.gr\t", "v2.greeter.hello ");
      await type("--name Ann\r", /"Hello, Ann! \(from node\)"/);
      await type(
        "bench nodemath.add --a 1 --b 1 --time 60\r",
        "concurrency 1",
        false,
      );
      await type("\x03", /Benchmark result \(stopped by Ctrl\+C\):/);
      await type("\x03", "(To exit, press Ctrl+C again, Ctrl+D or type exit)");
      await term.write("exit\r");
      assert.equal(await term.code, 0, term.output);
      const saved = (await Deno.readTextFile(history)).split("\n").filter(
        Boolean,
      );
      assert.deepEqual(saved, [
        "services",
        "nodes",
        "call nodemath.add --a 1 --b 1",
        "dcall mol-node v2.greeter.hello --name Ann",
        "bench nodemath.add --a 1 --b 1 --time 60",
        "exit",
      ]);
    },
  );
});
