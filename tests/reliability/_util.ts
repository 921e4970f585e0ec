/**
 * Helpers of the reliability suite: a raw NATS client that publishes hand-made (or broken)
 * packets on a node's subjects, a counting log sink, and call bookkeeping for traffic tests.
 *
 * Every test starts its own `nats-server` (`../_helpers/nats_server.ts`) on a free port of
 * 127.0.0.1 and stops it; brokers come from `startDeno` (`../transit/_util.ts`).
 *
 * @module
 */

import {
  type BrokerOptions,
  type LogEntry,
  MoleculerError,
  ServiceBroker,
  type ServiceSchema,
} from "../../mod.ts";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "../../src/transporters/nats/deno_transport.ts";
import { waitFor } from "../transit/_util.ts";

export { deferred, type DenoNode, startDeno, timed, waitFor } from "../transit/_util.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** A packet seen on the wire. */
export interface WirePacket {
  readonly subject: string;
  readonly data: Uint8Array;
}

/**
 * A bare NATS connection (the official client, on the project's Deno socket layer) that speaks
 * for a made-up node: publish raw bytes or JSON packets on any subject, and read what comes back.
 */
export class RawClient implements AsyncDisposable {
  readonly #nc: NatsConnection;
  /** The nodeID this client signs its well-formed packets with. */
  readonly nodeID: string;
  readonly #subs: { unsubscribe(): void }[] = [];

  private constructor(nc: NatsConnection, nodeID: string) {
    this.#nc = nc;
    this.nodeID = nodeID;
  }

  /** Connect to `url` as `nodeID`. */
  static async connect(url: string, nodeID = "raw"): Promise<RawClient> {
    return new RawClient(
      await connect({ servers: url.replace(/^nats:\/\//, "") }),
      nodeID,
    );
  }

  /** Publish raw bytes (or a string as UTF-8) on a subject. */
  raw(subject: string, data: Uint8Array | string): Promise<void> {
    try {
      this.#nc.publish(
        subject,
        typeof data === "string" ? te.encode(data) : data,
      );
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  /**
   * Call `fn` with the bytes and subject of every message on `subject` (wildcards allowed).
   * Resolves once the server has the subscription.
   */
  async subscribe(
    subject: string,
    fn: (data: Uint8Array, subject: string) => void,
  ): Promise<{ unsubscribe(): void }> {
    const sub = this.#nc.subscribe(subject, {
      callback: (_err, m) => fn(m.data, m.subject),
    });
    await this.#nc.flush();
    return sub;
  }

  /** Publish a packet: `ver` "5" and `sender` (this client) are added unless given. */
  send(subject: string, payload: Record<string, unknown>): Promise<void> {
    return this.raw(
      subject,
      JSON.stringify({ ver: "5", sender: this.nodeID, ...payload }),
    );
  }

  /** Record every message on `subject` (wildcards allowed). */
  record(subject: string): WirePacket[] {
    const seen: WirePacket[] = [];
    this.#subs.push(this.#nc.subscribe(subject, {
      callback: (_err, m) => void seen.push({ subject: m.subject, data: m.data }),
    }));
    return seen;
  }

  /** Call `fn` with every decoded JSON packet on `subject`. */
  on(
    subject: string,
    fn: (p: Record<string, unknown>, subject: string) => void,
  ): void {
    this.#subs.push(this.#nc.subscribe(subject, {
      callback: (_err, m) => {
        try {
          fn(JSON.parse(td.decode(m.data)), m.subject);
        } catch { /* not JSON: not ours to read */ }
      },
    }));
  }

  /**
   * Send a REQ to `target` and wait for its RES (on `MOL.RES.<this client>`).
   *
   * @returns The RES payload.
   */
  async request(
    target: string,
    action: string,
    fields: Record<string, unknown> = {},
    ms = 5000,
  ): Promise<Record<string, unknown>> {
    const id = `raw-${crypto.randomUUID()}`;
    let found: Record<string, unknown> | undefined;
    const sub = this.#nc.subscribe(`MOL.RES.${this.nodeID}`, {
      callback: (_err, m) => {
        try {
          const p = JSON.parse(td.decode(m.data));
          if (p.id === id) found = p;
        } catch { /* ignore */ }
      },
    });
    try {
      await this.send(`MOL.REQ.${target}`, {
        id,
        action,
        params: {},
        meta: {},
        headers: {},
        timeout: 0,
        level: 1,
        tracing: null,
        parentID: null,
        requestID: id,
        caller: null,
        stream: false,
        ...fields,
      });
      return await waitFor(
        () => found,
        `the RES of ${action} from ${target}`,
        ms,
        5,
      );
    } finally {
      sub.unsubscribe();
    }
  }

  /**
   * Wait until `target` has processed everything this client sent before: a PING travels
   * behind them on the same connection and the PONG comes back once they are handled.
   */
  async flush(target: string, ms = 20_000, prefix = "MOL"): Promise<void> {
    const id = `flush-${crypto.randomUUID()}`;
    let back = false;
    const sub = this.#nc.subscribe(`${prefix}.PONG.${this.nodeID}`, {
      callback: (_err, m) => {
        if (td.decode(m.data).includes(id)) back = true;
      },
    });
    try {
      await this.send(`${prefix}.PING.${target}`, { time: Date.now(), id });
      await waitFor(() => back, `${target} to catch up`, ms, 5);
    } finally {
      sub.unsubscribe();
    }
  }

  /** Announce this client as a node with the given services (an INFO on `MOL.INFO`). */
  announce(
    services: unknown[],
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    return this.send("MOL.INFO", {
      services,
      ipList: ["127.0.0.1"],
      hostname: "raw",
      client: { type: "raw", version: "0", langVersion: "0" },
      config: {},
      instanceID: `raw-instance-${this.nodeID}`,
      metadata: {},
      seq: 1,
      ...extra,
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const s of this.#subs) s.unsubscribe();
    await this.#nc.drain();
  }
}

/** A log sink that keeps counts and the last records, for "the log is not flooded" checks. */
export class LogCounter {
  readonly byLevel: Record<string, number> = {};
  readonly byMessage = new Map<string, number>();
  readonly entries: LogEntry[] = [];
  total = 0;

  /** The sink to pass as `logger`. */
  readonly sink = (e: LogEntry): void => {
    this.total++;
    this.byLevel[e.level] = (this.byLevel[e.level] ?? 0) + 1;
    // Group by the message's shape (quoted values and numbers masked).
    const shape = e.message.replace(/'[^']*'/g, "'…'").replace(/\d+/g, "N")
      .slice(0, 120);
    this.byMessage.set(shape, (this.byMessage.get(shape) ?? 0) + 1);
    if (this.entries.length < 2000) this.entries.push(e);
    if (Deno.env.get("DENOLECULAR_TEST_LOGS") === "1") {
      console.error(
        `[${e.nodeID}] ${e.level} ${e.module}: ${e.message.slice(0, 300)}`,
      );
    }
  };

  /** How many records at `level` or above. */
  atLeast(level: "warn" | "error"): number {
    const levels = level === "warn" ? ["warn", "error", "fatal"] : ["error", "fatal"];
    return levels.reduce((n, l) => n + (this.byLevel[l] ?? 0), 0);
  }

  /** Messages matching `re`. */
  matching(re: RegExp): string[] {
    return this.entries.filter((e) => re.test(e.message)).map((e) => e.message);
  }

  /** The most frequent message shapes, for reports. */
  top(n = 8): [string, number][] {
    return [...this.byMessage].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
}

/** A broker of the suite, with its log counter; stops itself when disposed. */
export interface Node extends AsyncDisposable {
  readonly broker: ServiceBroker;
  readonly logs: LogCounter;
}

/**
 * Create and start a broker with fast test defaults (heartbeat 0.5 s / 3 s, discovery 200 ms,
 * `stopDelay` 0) and a {@linkcode LogCounter} at `info` level.
 */
export async function startNode(
  url: NonNullable<BrokerOptions["transporter"]>,
  nodeID: string,
  services: ServiceSchema[] = [],
  extra: BrokerOptions = {},
): Promise<Node> {
  const logs = new LogCounter();
  const broker = new ServiceBroker({
    nodeID,
    transporter: url,
    heartbeatInterval: 0.5,
    heartbeatTimeout: 3,
    logLevel: "info",
    ...extra,
    logger: logs.sink,
    transit: {
      discoverWaitTime: 200,
      serviceChangedDebounceTime: 20,
      ...extra.transit,
    },
    registry: { stopDelay: 0, ...extra.registry },
  });
  for (const s of services) broker.createService(s);
  try {
    await broker.start();
  } catch (err) {
    await broker.stop().catch(() => {});
    throw err;
  }
  return { broker, logs, [Symbol.asyncDispose]: () => broker.stop() };
}

/** Outcome bookkeeping of a stream of calls: every call is counted exactly once. */
export class Tally {
  sent = 0;
  resolved = 0;
  readonly rejected = new Map<string, number>();
  /** Rejections that are not MoleculerErrors (untyped): should stay empty. */
  readonly untyped: unknown[] = [];
  readonly #inflight = new Set<Promise<unknown>>();

  /** Track a call. `onDone` sees its outcome. */
  track<T>(
    p: Promise<T>,
    onDone?: (ok: boolean, value: unknown) => void,
  ): void {
    this.sent++;
    const tracked = p.then(
      (v) => {
        this.resolved++;
        onDone?.(true, v);
      },
      (err) => {
        const name = err instanceof Error ? err.name : typeof err;
        this.rejected.set(name, (this.rejected.get(name) ?? 0) + 1);
        if (!(err instanceof MoleculerError)) this.untyped.push(err);
        onDone?.(false, err);
      },
    ).finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }

  /** Calls not settled yet. */
  get pending(): number {
    return this.#inflight.size;
  }

  /** Total rejections. */
  get rejectedCount(): number {
    let n = 0;
    for (const v of this.rejected.values()) n += v;
    return n;
  }

  /** Wait for every tracked call to settle (fails after `ms`: a call left pending). */
  async settle(ms = 15_000): Promise<void> {
    await waitFor(
      () => this.#inflight.size === 0,
      `${this.#inflight.size} call(s) to settle`,
      ms,
    );
  }

  /** A one-line summary. */
  summary(): string {
    return `sent ${this.sent}, resolved ${this.resolved}, rejected ${this.rejectedCount} ${
      JSON.stringify(Object.fromEntries(this.rejected))
    }`;
  }
}

/** Sleep `ms` (a timer that always ends). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Print a figure for docs/RELIABILITY.md (kept in the test output). */
export function report(label: string, value: unknown): void {
  console.log(
    `  [figure] ${label}: ${typeof value === "string" ? value : JSON.stringify(value)}`,
  );
}

/** A Denolecular node running `_responder.ts` in its own `deno` process. */
export interface ResponderProcess extends AsyncDisposable {
  readonly nodeID: string;
  readonly pid: number;
  /** SIGKILL: the process dies at once, without a DISCONNECT. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful broker stop. */
  stop(): Promise<void>;
  /** The last few KiB of its stderr. */
  stderrTail(): string;
}

/**
 * Start `_responder.ts` in a `deno run` subprocess (with `--expose-gc`, for exact heap figures)
 * and wait until its broker has started.
 */
export async function spawnResponder(opts: {
  url: string;
  nodeID: string;
  heartbeatInterval?: number;
  heartbeatTimeout?: number;
  logLevel?: "debug" | "info" | "warn";
  /** Extra environment of the process, e.g. `DENO_CERT` to trust a test CA. */
  env?: Record<string, string>;
}): Promise<ResponderProcess> {
  const { env, ...options } = opts;
  const script = new URL("./_responder.ts", import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      config,
      "--v8-flags=--expose-gc",
      script,
      JSON.stringify(options),
    ],
    env: env ?? {},
    cwd: new URL("../../", import.meta.url).pathname,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  let ready!: () => void;
  const isReady = new Promise<void>((r) => ready = r);
  const drain = async (
    stream: ReadableStream<Uint8Array>,
    onText: (s: string) => void,
  ) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      onText(chunk);
    }
  };
  const out = drain(child.stdout, (s) => {
    if (s.includes('"ready"')) ready();
  }).catch(() => {});
  const err = drain(child.stderr, (s) => tail = (tail + s).slice(-4096)).catch(
    () => {},
  );
  const stdin = child.stdin.getWriter();
  let exited = false;
  const status = child.status.then(async (s) => {
    exited = true;
    await Promise.all([out, err]);
    await stdin.close().catch(() => stdin.abort().catch(() => {}));
    return s;
  });
  const signal = async (sig: Deno.Signal) => {
    if (!exited) {
      try {
        child.kill(sig);
      } catch { /* gone */ }
    }
    await status;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      isReady,
      status.then((s) => {
        throw new Error(
          `responder ${opts.nodeID} exited (${s.code}) before ready:\n${tail}`,
        );
      }),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`responder ${opts.nodeID} not ready in 20 s:\n${tail}`),
            ),
          20_000,
        );
      }),
    ]);
  } catch (e) {
    clearTimeout(timer);
    await signal("SIGKILL");
    throw e;
  }
  clearTimeout(timer);
  return {
    nodeID: opts.nodeID,
    pid: child.pid,
    kill: () => signal("SIGKILL"),
    stop: () => signal("SIGTERM"),
    stderrTail: () => tail,
    [Symbol.asyncDispose]: () => signal("SIGKILL"),
  };
}
