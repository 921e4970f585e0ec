/**
 * A real Moleculer 0.15 node for the gateway tests (`_node/web_node.mjs`): the `nusers`
 * services, and moleculer-web 0.11 in front of the cluster when asked. It is started with the
 * same `node` binary and install check as the interop peers (`../_helpers/moleculer_peer.ts`).
 *
 * @module
 */

import { nodeBinary, requirePeers } from "../_helpers/moleculer_peer.ts";

/** Options of {@linkcode startWebNode}. */
export interface WebNodeOptions {
  /** The node's id. */
  nodeID: string;
  /** The NATS URL. */
  transporter: string;
  /** Run moleculer-web too, on this port. */
  webPort?: number;
  /** Host the `nusers` services. @default {true} */
  services?: boolean;
  /** moleculer-web's `assets.folder`, when it serves static files. */
  assets?: string;
}

/** A running Node.js Moleculer node. */
export interface WebNode extends AsyncDisposable {
  /** The node's id. */
  readonly nodeID: string;
  /** moleculer-web's base URL, when it runs. */
  readonly webUrl: string | null;
  /** The last few KiB of its stderr. */
  stderrTail(): string;
  /** Stop it (its broker says goodbye), waiting until the process is gone. */
  stop(): Promise<void>;
}

const SCRIPT = new URL("./_node/web_node.mjs", import.meta.url);
const TESTS_DIR = new URL("../", import.meta.url);

/**
 * Start the Node.js node; resolves once its broker has started.
 *
 * @param opts Node id, transporter, and whether to run moleculer-web.
 * @returns The node.
 */
export async function startWebNode(opts: WebNodeOptions): Promise<WebNode> {
  requirePeers();
  const moleculerWeb = new URL(
    "node_modules/moleculer-web/package.json",
    TESTS_DIR,
  );
  try {
    Deno.statSync(moleculerWeb);
  } catch {
    throw new Error(
      "moleculer-web is not installed (tests/node_modules): run `cd tests && npm ci`",
    );
  }
  const child = new Deno.Command(nodeBinary(), {
    args: [
      decodeURIComponent(SCRIPT.pathname),
      JSON.stringify({
        nodeID: opts.nodeID,
        transporter: opts.transporter,
        web: opts.webPort !== undefined,
        port: opts.webPort,
        services: opts.services ?? true,
        assets: opts.assets,
      }),
    ],
    cwd: decodeURIComponent(TESTS_DIR.pathname),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        if (Deno.env.get("MOLECULER_PEER_DEBUG") === "1") console.error(chunk);
        tail = (tail + chunk).slice(-8192);
      },
    }),
  ).catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stdoutDone = (async () => {
    let buf = "";
    while (true) {
      const { value, done } = await reader.read();
      if (done) return false;
      buf += value;
      if (buf.includes('"ready"')) return true;
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = await Promise.race([
    stdoutDone,
    new Promise<false>((r) => timer = setTimeout(() => r(false), 20_000)),
  ]);
  clearTimeout(timer);
  const stdin = child.stdin.getWriter();
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await stdin.close().catch(() => {});
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([
        child.status.then(() => false),
        new Promise<boolean>((r) => killTimer = setTimeout(() => r(true), 5000)),
      ]);
      clearTimeout(killTimer);
      if (late) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
      }
      // Drain stdout so its resource closes.
      await reader.cancel().catch(() => {});
      await stdoutDone.catch(() => {});
      await stderrDone;
    })();
    return stopped;
  };
  if (!ready) {
    await stop();
    throw new Error(
      `Moleculer node ${opts.nodeID} did not start\n--- stderr ---\n${tail}`,
    );
  }
  return {
    nodeID: opts.nodeID,
    webUrl: opts.webPort !== undefined ? `http://127.0.0.1:${opts.webPort}` : null,
    stderrTail: () => tail,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
