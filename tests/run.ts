/**
 * The test suite as `deno task test` runs it: set up what it needs, run it, and never report
 * success while skipping. The interop tests need the pinned Moleculer peers (installed here with
 * `npm ci` in tests/ when missing), Node.js and nats-server; a prerequisite that cannot be
 * installed here fails the run with one line naming its install command, and a run that ignored
 * any test fails too, naming them.
 *
 * Usage: `deno run -A tests/run.ts [extra deno test arguments]`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TESTS = fileURLToPath(new URL("./", import.meta.url));

function fail(line: string): never {
  console.error(`tests: ${line}`);
  Deno.exit(1);
}

async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function output(
  cmd: string,
  args: string[],
): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Every peer tests/package.json names is installed (a new pin since the last install counts). */
async function peersInstalled(): Promise<boolean> {
  const pkg = JSON.parse(await Deno.readTextFile(`${TESTS}package.json`)) as {
    dependencies?: Record<string, string>;
  };
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    if (!(await exists(`${TESTS}node_modules/${name}/package.json`))) {
      return false;
    }
  }
  return true;
}

async function npm(args: string[]): Promise<boolean> {
  try {
    const cmd = new Deno.Command("npm", {
      args,
      cwd: TESTS,
      stdout: "inherit",
      stderr: "inherit",
    });
    return (await cmd.output()).success;
  } catch {
    fail(
      "npm is missing: install Node.js with npm (https://nodejs.org), then run this again",
    );
  }
}

async function prerequisites(): Promise<void> {
  const node = Deno.env.get("MOLECULER_PEER_NODE") ?? "node";
  const version = await output(node, ["--version"]);
  if (version === undefined) {
    fail(
      "Node.js is missing (the interop tests run real Moleculer nodes): install Node.js 20 or " +
        "later from https://nodejs.org (or `apt-get install nodejs`)",
    );
  }
  // Moleculer 0.15 declares Node >= 22; the suite is proven on Node 20 too (docs/INTEROP.md).
  const major = Number(/^v(\d+)/.exec(version)?.[1] ?? 0);
  if (major < 20) {
    fail(
      `Node.js ${version} is too old for the Moleculer peers: install Node.js 20 or later`,
    );
  }
  if (!(await peersInstalled())) {
    console.error(
      "tests: installing the pinned Moleculer peers: (cd tests && npm ci)",
    );
    const lock = await Deno.readTextFile(`${TESTS}package-lock.json`);
    let ok = await npm(["ci", "--no-audit", "--no-fund"]);
    if (!ok) {
      // Some npm releases refuse a lock file that leaves out other platforms' optional packages;
      // `npm install` then installs the same locked versions, as long as it keeps the lock.
      console.error(
        "tests: npm ci refused (see above); installing the locked versions with npm install",
      );
      ok = await npm(["install", "--no-audit", "--no-fund"]);
      if (await Deno.readTextFile(`${TESTS}package-lock.json`) !== lock) {
        await Deno.writeTextFile(`${TESTS}package-lock.json`, lock);
        fail(
          "npm install changed tests/package-lock.json (restored): the peers cannot be installed as pinned",
        );
      }
    }
    if (!ok || !(await peersInstalled())) {
      fail(
        "`(cd tests && npm ci)` failed (see above): fix it, then run this again",
      );
    }
  }
  const nats = Deno.env.get("NATS_SERVER_BIN") ?? "nats-server";
  if (!(await runs(nats, ["--version"]))) {
    fail(
      `nats-server is missing ('${nats}' does not run): install it with ` +
        "`apt-get install nats-server` (or from https://github.com/nats-io/nats-server/releases) " +
        "or set NATS_SERVER_BIN to its path",
    );
  }
  const prometheus = Deno.env.get("PROMETHEUS_BIN") ?? "prometheus";
  if (!(await runs(prometheus, ["--version"]))) {
    fail(
      `prometheus is missing ('${prometheus}' does not run; the metrics tests scrape a node with ` +
        "it): install it with `apt-get update && apt-get install -y prometheus` or set " +
        "PROMETHEUS_BIN to its path",
    );
  }
  if (!(await runs("openssl", ["version"]))) {
    fail(
      "openssl is missing (the TLS tests make certificates): install it with `apt-get install openssl`",
    );
  }
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Run `deno test`, passing its output through, and return its code and ignored tests. */
async function denoTest(
  args: string[],
): Promise<{ code: number; ignored: string[] }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const ignored: string[] = [];
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const plain = line.replace(ANSI, "");
      if (/ \.\.\. ignored\b/.test(plain)) {
        ignored.push(plain.replace(/ \.\.\. ignored.*/, ""));
      }
    }
  }
  return { code: (await child.status).code, ignored };
}

if (import.meta.main) {
  await prerequisites();
  const extra = Deno.args;
  const runsOf = [
    ["-A", "--trace-leaks", "--doc", ...extra, "mod.ts", "cli.ts", "src/"],
    ["-A", "--trace-leaks", ...extra, "tests/"],
  ];
  const ignored: string[] = [];
  for (const args of runsOf) {
    const r = await denoTest(args);
    if (r.code !== 0) Deno.exit(r.code);
    ignored.push(...r.ignored);
  }
  if (ignored.length > 0) {
    fail(
      `${ignored.length} test(s) were skipped, so this run proves less than it says: ` +
        ignored.map((t) => t.trim()).join("; "),
    );
  }
}
