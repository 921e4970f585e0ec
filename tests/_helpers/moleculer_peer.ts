/**
 * Runs a REAL Moleculer node (npm `moleculer@0.14.36` or `@0.15.2`, installed under
 * `tests/node_modules` by `npm ci` in `tests/`) as a child process, for interop tests.
 *
 * ```ts
 * await using nats = await startNatsServer();
 * await using peer = await startMoleculerPeer({ version: "0.15", nodeID: "node-1", transporter: nats.url });
 * const { data, meta } = await peer.call("nodemath.add", { a: 1, b: 2 });
 * ```
 *
 * The Node side is `peer/peer.mjs`; see it for the preset services (`nodemath`, `v2.greeter`,
 * `nodelistener`) and the line-based control protocol on its stdin/stdout.
 *
 * Environment: `MOLECULER_PEER_NODE` picks the `node` binary (default: `tests/node_modules/.bin/node`
 * when present, else `node` on PATH); `MOLECULER_PEER_DEBUG=1` copies the peers' stderr (their
 * Moleculer logs) to this process's stderr.
 *
 * @module
 */

/** Which Moleculer release the peer runs. */
export type MoleculerVersion = "0.14" | "0.15";

/** Options for {@linkcode startMoleculerPeer}. */
export interface PeerOptions {
  version: MoleculerVersion;
  nodeID: string;
  /** Transporter connection string, e.g. `nats://127.0.0.1:4222`. */
  transporter: string;
  namespace?: string;
  /** Seconds (Moleculer's unit). Keep it >= 1: Moleculer adds a random -0.5..+0.5 s jitter. */
  heartbeatInterval?: number;
  /** Seconds (Moleculer's unit). */
  heartbeatTimeout?: number;
  disableBalancer?: boolean;
  /** Preset services to load: any of `nodemath`, `greeter`, `listener`. Default: all. */
  services?: string[];
  /** Moleculer log level for the peer's stderr; default `"warn"`. */
  logLevel?: string;
  /** Extra ServiceBroker options (JSON only), merged last. */
  brokerOptions?: Record<string, unknown>;
}

/** An event (or local `$node.*` event) recorded by the peer's `nodelistener` service. */
export interface PeerEvent {
  /** `"event"` for a listener handler call, `"local-event"` for `$node.connected`/`$node.disconnected`. */
  type: string;
  /** The handler's subscription pattern, e.g. `user.*`. */
  handler?: string;
  event: string;
  data?: unknown;
  groups?: string[];
  eventType?: string;
  nodeID?: string;
  meta?: Record<string, unknown>;
  unexpected?: boolean;
  reconnected?: boolean;
  level?: number;
  requestID?: string;
  parentID?: string | null;
  caller?: string | null;
}

/** Result of {@linkcode MoleculerPeer.call}. */
export interface PeerCallResult {
  data: unknown;
  /** The caller-side `ctx.meta` after the response meta was merged in. */
  meta: Record<string, unknown>;
  /** The node that served the call (`ctx.nodeID` after the response). */
  nodeID?: string;
}

/** A running Moleculer peer. Dispose it (or `kill`/`stop` it) when the test ends. */
export interface MoleculerPeer extends AsyncDisposable {
  readonly nodeID: string;
  readonly version: MoleculerVersion;
  /** Every `event`/`local-event` line received so far, in arrival order. */
  readonly events: PeerEvent[];
  /** `broker.call` on the peer; rejects with a {@linkcode PeerCallError}. */
  call(
    action: string,
    params?: unknown,
    opts?: Record<string, unknown>,
  ): Promise<PeerCallResult>;
  emit(
    event: string,
    data?: unknown,
    opts?: Record<string, unknown>,
  ): Promise<void>;
  broadcast(
    event: string,
    data?: unknown,
    opts?: Record<string, unknown>,
  ): Promise<void>;
  /** `broker.ping(nodeID, timeout)`: resolves with the pong `{nodeID, elapsedTime, timeDiff}` or null. */
  ping(nodeID: string, timeout?: number): Promise<unknown>;
  /** The `$node.list` action's result. */
  nodes(): Promise<Array<Record<string, unknown>>>;
  waitForServices(services: string | string[], timeout?: number): Promise<void>;
  /** Resolves with the first already-received or future event matching `predicate`. */
  waitForEvent(
    predicate: (e: PeerEvent) => boolean,
    timeoutMs?: number,
  ): Promise<PeerEvent>;
  /** Graceful `broker.stop()` (sends DISCONNECT), then waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL (no DISCONNECT), then waits for the process to exit. */
  kill(): Promise<void>;
  /** Resolves once the process has exited and its pipes are closed. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** The last few KiB of the peer's stderr. */
  stderrTail(): string;
}

/** The error fields a failed peer command reports (a serialized Moleculer error). */
export interface PeerErrorInfo {
  name?: string;
  message?: string;
  code?: number;
  type?: string;
  data?: unknown;
  retryable?: boolean;
  nodeID?: string;
  ctorName?: string;
}

/** Rejection of a peer command: carries the Moleculer error's fields as the Node side saw them. */
export class PeerCallError extends Error {
  readonly code: number | undefined;
  readonly type: string | undefined;
  readonly data: unknown;
  readonly retryable: boolean | undefined;
  readonly nodeID: string | undefined;
  readonly ctorName: string | undefined;
  /** For `call`: the caller-side meta after the (error) response was merged in. */
  readonly meta: Record<string, unknown> | undefined;

  constructor(info: PeerErrorInfo, meta?: Record<string, unknown>) {
    super(info.message ?? "(no message)");
    // The Moleculer error's name (e.g. `MoleculerClientError`); test the class with instanceof.
    this.name = info.name ?? "PeerCallError";
    this.code = info.code;
    this.type = info.type;
    this.data = info.data;
    this.retryable = info.retryable;
    this.nodeID = info.nodeID;
    this.ctorName = info.ctorName;
    this.meta = meta;
  }
}

const TESTS_DIR = new URL("../", import.meta.url);
const PEER_SCRIPT = new URL("./peer/peer.mjs", import.meta.url);
const READY_TIMEOUT_MS = 15_000;
/** Safety net for control commands, so a wedged peer fails a test instead of hanging it. */
const COMMAND_GUARD_MS = 60_000;
const STDERR_TAIL_BYTES = 8192;
const STOP_EXIT_GRACE_MS = 5_000;

function pathOf(url: URL): string {
  return decodeURIComponent(url.pathname);
}

function exists(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch {
    return false;
  }
}

/** True when `tests/node_modules` holds both Moleculer versions and the `nats` client. */
export function moleculerPeersInstalled(): boolean {
  return ["moleculer-014", "moleculer-015", "nats"].every((dir) =>
    exists(new URL(`node_modules/${dir}/package.json`, TESTS_DIR))
  );
}

/**
 * True when tests that need real Moleculer peers should be skipped: the peers
 * are not installed (`cd tests && npm ci`) and `CI` is unset. In CI a missing
 * install is not skipped, so those tests fail loudly.
 */
export function skipWithoutPeers(): boolean {
  return !moleculerPeersInstalled() && !Deno.env.get("CI");
}

/**
 * Throw a clear error when the peers are missing; for tests that run in CI
 * (where {@linkcode skipWithoutPeers} does not skip them).
 */
export function requirePeers(): void {
  if (!moleculerPeersInstalled()) {
    throw new Error(
      "Moleculer peers are not installed (tests/node_modules): run `cd tests && npm ci`",
    );
  }
}

/**
 * The `node` binary the peers run on: `MOLECULER_PEER_NODE`, else `tests/node_modules/.bin/node`
 * when present, else `node` on the PATH.
 */
export function nodeBinary(): string {
  const fromEnv = Deno.env.get("MOLECULER_PEER_NODE");
  if (fromEnv) return fromEnv;
  const local = new URL("node_modules/.bin/node", TESTS_DIR);
  return exists(local) ? pathOf(local) : "node";
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface EventWaiter {
  predicate(e: PeerEvent): boolean;
  resolve(e: PeerEvent): void;
  reject(err: Error): void;
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
    if (buf) onLine(buf);
  } finally {
    reader.releaseLock();
  }
}

/**
 * Start a Moleculer node as a child process. Resolves once its broker has started (and so has
 * connected to the transporter and run its first discovery); rejects with the tail of its stderr
 * if it exits first or is not ready within 15 s.
 */
export async function startMoleculerPeer(
  opts: PeerOptions,
): Promise<MoleculerPeer> {
  const debug = Deno.env.get("MOLECULER_PEER_DEBUG") === "1";
  const child = new Deno.Command(nodeBinary(), {
    args: [pathOf(PEER_SCRIPT), JSON.stringify(opts)],
    cwd: pathOf(TESTS_DIR),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const stdin = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const events: PeerEvent[] = [];
  const pending = new Map<number, Pending>();
  const waiters = new Set<EventWaiter>();
  let nextId = 1;
  let stderrTail = "";
  let exitedStatus: Deno.CommandStatus | undefined;
  let stdinClosed = false;

  let onReady!: (nodeID: string) => void;
  const ready = new Promise<string>((resolve) => onReady = resolve);

  const label = `moleculer ${opts.version} peer "${opts.nodeID}"`;

  const onStdoutLine = (line: string) => {
    if (!line.trim()) return;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      stderrTail += `[non-JSON stdout] ${line}\n`;
      return;
    }
    switch (msg.type) {
      case "ready":
        onReady(String(msg.nodeID));
        break;
      case "reply": {
        const p = pending.get(msg.id as number);
        if (!p) break;
        pending.delete(msg.id as number);
        if (msg.ok) p.resolve(msg.result);
        else {
          p.reject(
            new PeerCallError(
              (msg.error ?? {}) as PeerErrorInfo,
              msg.meta as Record<string, unknown> | undefined,
            ),
          );
        }
        break;
      }
      case "event":
      case "local-event": {
        const e = msg as unknown as PeerEvent;
        events.push(e);
        for (const w of [...waiters]) {
          let hit = false;
          try {
            hit = w.predicate(e);
          } catch (err) {
            w.reject(err instanceof Error ? err : new Error(String(err)));
            continue;
          }
          if (hit) w.resolve(e);
        }
        break;
      }
      default:
        stderrTail += `[unknown stdout line] ${line}\n`;
    }
  };

  const stdoutDone = readLines(child.stdout, onStdoutLine).catch(() => {});
  const stderrDone = (async () => {
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        if (debug) Deno.stderr.writeSync(encoder.encode(value));
        stderrTail = (stderrTail + value).slice(-STDERR_TAIL_BYTES);
      }
    } finally {
      reader.releaseLock();
    }
  })().catch(() => {});

  const closeStdin = async () => {
    if (stdinClosed) return;
    stdinClosed = true;
    try {
      await stdin.close();
    } catch {
      // The process is gone and the pipe is broken: abort, which still closes the resource.
      await stdin.abort().catch(() => {});
    }
  };

  const exited = (async () => {
    const status = await child.status;
    exitedStatus = status;
    await Promise.all([stdoutDone, stderrDone]);
    const why = () =>
      new Error(
        `${label} exited (code ${status.code}${
          status.signal ? `, signal ${status.signal}` : ""
        })\n--- stderr tail ---\n${stderrTail}`,
      );
    for (const p of pending.values()) p.reject(why());
    pending.clear();
    for (const w of [...waiters]) w.reject(why());
    await closeStdin();
    return status;
  })();

  const command = (
    cmd: string,
    body: Record<string, unknown> = {},
  ): Promise<unknown> => {
    if (exitedStatus || stdinClosed) {
      return Promise.reject(
        new Error(`${label} is not running (cannot send "${cmd}")`),
      );
    }
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(
          new Error(
            `${label}: no reply to "${cmd}" within ${COMMAND_GUARD_MS} ms`,
          ),
        );
      }, COMMAND_GUARD_MS);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const line = JSON.stringify({ id, cmd, ...body }) + "\n";
      stdin.write(encoder.encode(line)).catch((err) => {
        const p = pending.get(id);
        pending.delete(id);
        p?.reject(new Error(`${label}: writing "${cmd}" failed: ${err}`));
      });
    });
  };

  const kill = async () => {
    if (!exitedStatus) {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
    }
    await exited;
  };

  // Wait for "ready", an early exit, or the deadline.
  let readyTimer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      ready,
      exited.then((s) => {
        throw new Error(
          `${label} exited before it was ready (code ${s.code})\n--- stderr tail ---\n${stderrTail}`,
        );
      }),
      new Promise<never>((_, reject) => {
        readyTimer = setTimeout(
          () =>
            reject(
              new Error(
                `${label} was not ready within ${READY_TIMEOUT_MS} ms\n--- stderr tail ---\n${stderrTail}`,
              ),
            ),
          READY_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (err) {
    clearTimeout(readyTimer);
    await kill();
    throw err;
  }
  clearTimeout(readyTimer);

  const peer: MoleculerPeer = {
    nodeID: opts.nodeID,
    version: opts.version,
    events,
    exited,
    stderrTail: () => stderrTail,
    async call(action, params, callOpts) {
      return await command("call", {
        action,
        params,
        opts: callOpts ?? {},
      }) as PeerCallResult;
    },
    async emit(event, data, emitOpts) {
      await command("emit", { event, data, opts: emitOpts });
    },
    async broadcast(event, data, bcOpts) {
      await command("broadcast", { event, data, opts: bcOpts });
    },
    ping(nodeID, timeout) {
      return command("ping", { nodeID, timeout });
    },
    async nodes() {
      return await command("nodes") as Array<Record<string, unknown>>;
    },
    async waitForServices(services, timeout) {
      await command("waitForServices", { services, timeout });
    },
    waitForEvent(predicate, timeoutMs = 5000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      if (exitedStatus) {
        return Promise.reject(
          new Error(`${label} has exited; no matching event was recorded`),
        );
      }
      return new Promise<PeerEvent>((resolve, reject) => {
        const waiter: EventWaiter = {
          predicate,
          resolve: (e) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(e);
          },
          reject: (err) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            reject(err);
          },
        };
        const timer = setTimeout(() => {
          const seen = events.map((e) => `${e.type}:${e.handler ?? ""}:${e.event}`).join(", ");
          waiter.reject(
            new Error(
              `${label}: no matching event within ${timeoutMs} ms (predicate ${predicate}); ` +
                `events seen: [${seen}]`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async stop() {
      if (exitedStatus) return;
      try {
        await command("stop");
      } catch {
        // It exited while stopping, or could not be told to: make sure it is gone.
        await kill();
        return;
      }
      await closeStdin();
      // It exits by itself after replying; don't let a wedged process hang the test.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => timer = setTimeout(() => r(true), STOP_EXIT_GRACE_MS)),
      ]);
      clearTimeout(timer);
      if (late) await kill();
    },
    kill,
    async [Symbol.asyncDispose]() {
      await kill();
    },
  };
  return peer;
}
