/**
 * The layering rules of src/ (ARCHITECTURE.md), checked on the source text:
 * - nothing outside src/broker/ and src/runner/ imports src/broker/;
 * - `Deno.` and `node:` appear only in src/runtime/, src/transporters/, src/runner/, src/gateway/
 *   (the HTTP server), src/metrics/reporters/ (Prometheus' endpoint, CSV files) and
 *   src/logging/sinks.ts;
 * - no import loop spans more than one folder (type imports count; `import()` does not, it is
 *   how plugins load lazily);
 * - the static module graph of mod.ts holds no transporter client.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SRC = join(ROOT, "src");

/** Every `.ts` file under src/, as paths relative to the project root. */
function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(relative(ROOT, path));
  }
  return out.sort();
}

/** The source with comments blanked (so JSDoc examples do not count as code). */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "))
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

/** Relative specifiers of static `import`/`export … from` statements, type-only ones included. */
function staticImports(text: string): string[] {
  const specs: string[] = [];
  const re = /^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^import\s*["']([^"']+)["']/gm;
  for (const m of code(text).matchAll(re)) {
    const spec = m[1] ?? m[2];
    if (spec?.startsWith(".")) specs.push(spec);
  }
  return specs;
}

const folderOf = (file: string): string => file.slice(0, file.lastIndexOf("/"));

/** The import graph of src/: file → files it imports. */
function graph(files: string[]): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const text = Deno.readTextFileSync(join(ROOT, file));
    edges.set(
      file,
      staticImports(text).map((spec) => relative(ROOT, join(ROOT, folderOf(file), spec))),
    );
  }
  return edges;
}

/** Strongly connected components with more than one file (Tarjan). */
function loops(edges: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const files = sourceFiles();
const edges = graph(files);

Deno.test("architecture: only src/broker/ and src/runner/ import src/broker/", () => {
  const bad: string[] = [];
  for (const [file, targets] of edges) {
    if (file.startsWith("src/broker/") || file.startsWith("src/runner/")) continue;
    for (const t of targets) if (t.startsWith("src/broker/")) bad.push(`${file} → ${t}`);
  }
  assert.deepEqual(bad, [], "these modules reach up into the composition root");
});

Deno.test("architecture: Deno and node: APIs only in the runtime, transporters, runner, gateway and log sinks", () => {
  const allowed = [
    "src/runtime/",
    "src/transporters/",
    "src/runner/",
    "src/gateway/",
    "src/logging/sinks.ts",
    // Metric reporters that serve HTTP (Prometheus, on Deno.serve) or write files (CSV).
    "src/metrics/reporters/",
  ];
  const bad: string[] = [];
  for (const file of files) {
    if (allowed.some((a) => file.startsWith(a))) continue;
    const lines = code(Deno.readTextFileSync(join(ROOT, file))).split("\n");
    lines.forEach((line, i) => {
      if (/\bDeno\.|["']node:/.test(line)) bad.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(bad, [], "platform calls belong in src/runtime/ (the Runtime port)");
});

Deno.test("architecture: no import loop spans more than one folder", () => {
  const bad = loops(edges).filter((scc) => new Set(scc.map(folderOf)).size > 1);
  assert.deepEqual(bad, [], "cut these loops with a contract in src/core/ or a host interface");
});

/** A dependency edge in `deno info --json`. */
interface StaticDependency {
  code?: { specifier: string };
  type?: { specifier: string };
  isDynamic?: boolean;
}

Deno.test("architecture: mod.ts loads no transporter client statically", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", join(ROOT, "mod.ts")],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, "deno info --json mod.ts failed");
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: StaticDependency[] }[];
    redirects: Record<string, string>;
    npmPackages?: Record<string, { dependencies?: string[] }>;
  };
  // `deno info` lists what `import()` reaches too: walk the static edges only.
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const names = new Set<string>();
  const visit = (specifier: string): void => {
    const resolved = info.redirects[specifier] ?? specifier;
    if (names.has(resolved)) return;
    names.add(resolved);
    for (const dep of modules.get(resolved)?.dependencies ?? []) {
      if (dep.isDynamic) continue;
      for (const target of [dep.code?.specifier, dep.type?.specifier]) if (target) visit(target);
    }
  };
  info.roots.forEach(visit);
  // An npm package brings its own dependencies (nkeys comes with nats-core).
  const loaded = new Set(names);
  for (const name of loaded) {
    const pkg = /^npm:\/?(@?[^@]+@[^/]+)/.exec(name)?.[1] ?? name;
    for (const dep of info.npmPackages?.[pkg]?.dependencies ?? []) loaded.add(dep);
  }
  const clients = [...loaded].filter((n) =>
    /@nats-io\/|nkeys|(^|npm:\/?)(ioredis|mqtt|amqplib)@|\bnode:(net|tls)\b/.test(n)
  );
  assert.deepEqual(clients, [], "a transporter's client must load on connect, by import()");
});
