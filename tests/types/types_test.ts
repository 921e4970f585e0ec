/**
 * Typed calls, checked by the compiler: `deno check` passes on tests/types/pass/ (where every
 * wrong use is marked `@ts-expect-error`, so it must fail there), fails on each file of
 * tests/types/fail/ with the error its first line names, and types calls to a live cluster
 * from the declarations `denolecular types` writes for a Node.js Moleculer 0.15 node.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runCli } from "../../cli.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { nodeBinary, requirePeers } from "../_helpers/moleculer_peer.ts";

const HERE = new URL("./", import.meta.url);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TESTS_DIR = new URL("../", import.meta.url);

function includes(text: string, part: string): void {
  assert.ok(
    text.includes(part),
    `expected ${JSON.stringify(part)} in:\n${text}`,
  );
}

async function denoCheck(
  files: string[],
  cwd = ROOT,
): Promise<{ ok: boolean; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "-q", ...files],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    ok: out.success,
    output: text.decode(out.stdout) + text.decode(out.stderr),
  };
}

async function filesIn(dir: string, ext: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, HERE))) {
    if (e.isFile && e.name.endsWith(ext)) {
      files.push(fileURLToPath(new URL(`${dir}/${e.name}`, HERE)));
    }
  }
  return files.sort();
}

Deno.test("typed calls: the pass fixtures compile, and each marked wrong use is an error", async () => {
  const files = await filesIn("pass", ".ts");
  assert.ok(files.length >= 2);
  const { ok, output } = await denoCheck(files);
  assert.ok(ok, output);
});

for (const file of await filesIn("fail", ".ts")) {
  Deno.test(`typed calls: ${file.split("/").pop()} fails with the error it names`, async () => {
    const first = (await Deno.readTextFile(file)).split("\n")[0]!;
    const m = /^\/\/ expect: (TS\d+) "(.+)"$/.exec(first);
    assert.ok(
      m,
      `the first line of ${file} must be: // expect: TS<code> "<message part>"`,
    );
    const { ok, output } = await denoCheck([file]);
    assert.ok(!ok, `${file} compiled but must not`);
    includes(output, m[1]!);
    includes(output, m[2]!);
    includes(output, file);
  });
}

Deno.test({
  name: "typed calls: declarations generated from a cluster with a Moleculer 0.15 node type calls",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    requirePeers();
    await using nats = await startNatsServer();
    const peer = new Deno.Command(nodeBinary(), {
      args: [fileURLToPath(new URL("live/catalog_peer.mjs", HERE)), nats.url],
      cwd: fileURLToPath(TESTS_DIR),
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const project = await Deno.realPath(
      await Deno.makeTempDir({ prefix: "denolecular-types-" }),
    );
    try {
      const reader = peer.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let seen = "";
      while (!seen.includes("ready\n")) {
        const { value, done } = await reader.read();
        assert.ok(!done, "the Moleculer node exited before it was ready");
        seen += value;
      }
      reader.releaseLock();
      peer.stdout.cancel().catch(() => {});

      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(
        [
          "types",
          "-t",
          nats.url,
          "-o",
          "services.d.ts",
          "--wait",
          "5000",
          "-s",
        ],
        {
          cwd: project,
          stdout: (t) => out.push(t),
          stderr: (t) => err.push(t),
        },
      );
      assert.equal(code, 0, err.join("\n"));
      includes(
        err.join("\n"),
        "Wrote services.d.ts: 3 declaration(s) from 1 node(s)",
      );
      const text = await Deno.readTextFile(`${project}/services.d.ts`);
      includes(text, 'declare module "@denolecular/denolecular" {');
      includes(text, "// Nodes: node-catalog (nodejs 0.15.2)");
      for (
        const line of [
          '    "v2.catalog.find": {',
          "        query: string;",
          "        limit?: number;",
          "        page?: number;",
          "        inStock?: boolean;",
          '        sort: "price" | "name";',
          "        tags: string[];",
          "          min: number;",
          "          max?: number;",
          '    "v2.catalog.count": {\n      params: unknown;\n      result: unknown;',
          '    "catalog.updated": {',
          "        fields?: string[];",
        ]
      ) includes(text, line);
      assert.ok(
        !text.includes("catalog.*"),
        "a wildcard subscription names no event",
      );
      assert.ok(!text.includes("$node"), "internal services are not declared");

      // A project outside the checkout that links it, as README's "use it in your project" says.
      await Deno.writeTextFile(
        `${project}/deno.json`,
        JSON.stringify({ links: [ROOT] }),
      );
      for (const f of ["consumer.ts", "consumer_wrong.ts"]) {
        await Deno.copyFile(
          fileURLToPath(new URL(`live/${f}`, HERE)),
          `${project}/${f}`,
        );
      }
      const good = await denoCheck(
        ["consumer.ts", "consumer_wrong.ts"],
        project,
      );
      assert.ok(good.ok, good.output);
      // Without the declarations the wrong uses compile, so the checks above came from them.
      await Deno.writeTextFile(`${project}/services.d.ts`, "export {};\n");
      const bare = await denoCheck(["consumer_wrong.ts"], project);
      assert.ok(!bare.ok);
      includes(bare.output, "Unused '@ts-expect-error' directive");
    } finally {
      await peer.stdin.close().catch(() => {});
      const status = await Promise.race([
        peer.status,
        new Promise<null>((r) => setTimeout(() => r(null), 3000)),
      ]);
      if (status === null) {
        peer.kill("SIGKILL");
        await peer.status;
      }
      await Deno.remove(project, { recursive: true }).catch(() => {});
    }
  },
});
