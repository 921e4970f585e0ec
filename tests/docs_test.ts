/**
 * Every ```ts block of README.md and docs/*.md compiles, and every runnable one runs: the
 * blocks are written to a project outside the checkout that links it (as README's "Use it in
 * your project" says), so `jsr:@denolecular/denolecular` and `@denolecular/denolecular`
 * resolve to this checkout. `nats://127.0.0.1:4222` in a block is pointed at a NATS server of
 * this test's own. A block that cannot run here says so in its fence: ```ts no-run (it is still
 * type-checked); the prose next to it says why.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startNatsServer } from "./_helpers/nats_server.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NATS_IN_DOCS = "nats://127.0.0.1:4222";

interface Block {
  /** `README.md:42`: the file and the line of the opening fence. */
  readonly where: string;
  readonly file: string;
  readonly code: string;
  readonly run: boolean;
}

async function markdownFiles(): Promise<string[]> {
  const files = ["README.md"];
  for await (const e of Deno.readDir(`${ROOT}docs`)) {
    if (e.isFile && e.name.endsWith(".md")) files.push(`docs/${e.name}`);
  }
  return files.sort();
}

function blocksOf(path: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)\b(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const flags = open[2]!.trim().split(/\s+/).filter(Boolean);
    for (const f of flags) {
      if (f !== "no-run") {
        throw new Error(
          `${path}:${i + 1}: unknown fence flag '${f}' (use no-run)`,
        );
      }
    }
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    const where = `${path}:${start + 1}`;
    blocks.push({
      where,
      file: `${path.replace(/[/.]/g, "_")}_${start + 1}.ts`,
      code: body.join("\n") + "\n",
      run: !flags.includes("no-run"),
    });
  }
  return blocks;
}

const blocks: Block[] = [];
for (const md of await markdownFiles()) {
  blocks.push(...blocksOf(md, await Deno.readTextFile(`${ROOT}${md}`)));
}

async function deno(args: string[], cwd: string, timeout = 60_000) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder();
  return {
    code: out.code,
    output: text.decode(out.stdout) + text.decode(out.stderr),
  };
}

Deno.test("docs: README.md and docs/*.md have code blocks to check", () => {
  assert.ok(blocks.length >= 6, `found ${blocks.length}`);
  assert.ok(blocks.filter((b) => b.run).length >= 4);
});

Deno.test({
  name: "docs: every ```ts block type-checks, and every runnable one runs",
  sanitizeResources: false,
  async fn(t) {
    await using nats = await startNatsServer();
    const project = await Deno.realPath(
      await Deno.makeTempDir({ prefix: "denolecular-docs-" }),
    );
    try {
      await Deno.writeTextFile(
        `${project}/deno.json`,
        JSON.stringify({ links: [ROOT] }),
      );
      for (const b of blocks) {
        await Deno.writeTextFile(
          `${project}/${b.file}`,
          b.code.replaceAll(NATS_IN_DOCS, nats.url),
        );
      }
      // One program per block, as a reader would paste it: a block's declaration merging
      // (see "Typed calls") must not reach the others.
      for (const b of blocks) {
        await t.step(`${b.where} type-checks`, async () => {
          const check = await deno(["check", "-q", b.file], project);
          const shown = check.output.replaceAll(
            `file://${project}/${b.file}`,
            b.where,
          );
          assert.equal(
            check.code,
            0,
            `${b.where} does not type-check:\n${shown}`,
          );
        });
      }
      for (const b of blocks.filter((b) => b.run)) {
        await t.step(`${b.where} runs`, async () => {
          const r = await deno(["run", "-A", b.file], project, 30_000);
          assert.equal(
            r.code,
            0,
            `${b.where} exited with ${r.code}:\n${r.output}`,
          );
        });
      }
    } finally {
      await Deno.remove(project, { recursive: true }).catch(() => {});
    }
  },
});
