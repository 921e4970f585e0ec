/**
 * Run a snippet on a real Moleculer 0.15 broker in Node and read back what it reports, so a
 * compat test can compare Denolecular with Moleculer on the same middleware or config.
 */
import { nodeBinary, requirePeers } from "../_helpers/moleculer_peer.ts";

const TESTS_DIR = new URL("../", import.meta.url);

/**
 * Run `body` as an async function in Node with `ServiceBroker` (Moleculer 0.15) and `load(path)`
 * (an `import()` relative to tests/compat/) in scope; its return value comes back as JSON.
 *
 * @param body The function body.
 * @returns What it returned.
 */
export async function inMoleculer(body: string): Promise<unknown> {
  requirePeers();
  const compatDir = new URL("./", import.meta.url).href;
  const script = `
const { ServiceBroker } = require("moleculer-015");
const load = (p) => import(new URL(p, ${JSON.stringify(compatDir)}).href);
(async () => { ${body} })().then(
  (r) => { process.stdout.write("\\n@@RESULT@@" + JSON.stringify(r ?? null) + "\\n"); process.exit(0); },
  (e) => { console.error(e); process.exit(1); },
);`;
  const out = await new Deno.Command(nodeBinary(), {
    args: ["-e", script],
    cwd: new URL(".", TESTS_DIR).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const marker = stdout.lastIndexOf("@@RESULT@@");
  if (!out.success || marker < 0) {
    throw new Error(
      `Moleculer snippet failed (${out.code}): ${
        new TextDecoder().decode(out.stderr).slice(-2000)
      }`,
    );
  }
  return JSON.parse(stdout.slice(marker + "@@RESULT@@".length).trim());
}
