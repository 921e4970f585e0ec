/**
 * Helpers for tests that run several Deno brokers: a broker that disposes itself and keeps its
 * logs, an event recorder for listener services, and a poll helper with a deadline. Used by the
 * memory-transporter cluster tests and the interop suite.
 *
 * `MOLECULER_PEER_DEBUG=1` (or `DENOLECULAR_TEST_LOGS=1`) prints the brokers' logs.
 *
 * @module
 */

import {
  type BrokerOptions,
  type Context,
  type LogEntry,
  ServiceBroker,
  type ServiceSchema,
} from "../../mod.ts";

const DEBUG = Deno.env.get("MOLECULER_PEER_DEBUG") === "1" ||
  Deno.env.get("DENOLECULAR_TEST_LOGS") === "1";

/**
 * Poll `probe` until it returns a truthy value, or fail after `timeout` ms.
 *
 * @returns The truthy value.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeout = 5000,
  interval = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Measure how long a promise takes to settle. */
export async function timed<T>(
  p: Promise<T>,
): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

/** A promise with its resolve function, for handlers a test releases. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
} {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/** A Deno broker that stops itself when disposed, with its log records. */
export interface DenoNode extends AsyncDisposable {
  readonly broker: ServiceBroker;
  /** Every log record at or above the broker's `logLevel` (default `warn`). */
  readonly logs: LogEntry[];
}

/** Options of {@linkcode startDeno}: broker options plus services to create before start. */
export interface DenoNodeOptions extends BrokerOptions {
  services?: ServiceSchema[];
  /** Start the broker (default true). */
  start?: boolean;
}

/**
 * Create (and start) a Deno broker with fast test defaults: heartbeat 0.5 s / 5 s,
 * `discoverWaitTime` 200 ms, `serviceChangedDebounceTime` 50 ms, logs captured.
 */
export async function startDeno(options: DenoNodeOptions): Promise<DenoNode> {
  const { services = [], start = true, ...rest } = options;
  const logs: LogEntry[] = [];
  const broker = new ServiceBroker({
    heartbeatInterval: 0.5,
    heartbeatTimeout: 5,
    logLevel: "warn",
    ...rest,
    logger: (entry) => {
      logs.push(entry);
      if (DEBUG) {
        console.error(
          `[deno ${entry.nodeID}] ${entry.level} ${entry.module}: ${entry.message}`,
        );
      }
    },
    transit: {
      discoverWaitTime: 200,
      serviceChangedDebounceTime: 50,
      ...rest.transit,
    },
  });
  for (const s of services) broker.createService(s);
  const node: DenoNode = {
    broker,
    logs,
    async [Symbol.asyncDispose]() {
      await broker.stop();
    },
  };
  if (start) {
    try {
      await broker.start();
    } catch (err) {
      await broker.stop().catch(() => {});
      throw err;
    }
  }
  return node;
}

/** An event as a Deno listener saw it. */
export interface SeenEvent {
  /** The service that handled it. */
  service: string;
  /** The subscription (pattern) of the handler. */
  handler: string;
  /** The handler's group. */
  group: string | undefined;
  event: string | null;
  data: unknown;
  groups: string[] | null;
  eventType: string | null;
  nodeID: string | null;
  meta: Record<string, unknown>;
  headers: Record<string, unknown>;
  level: number;
  requestID: string | null;
  parentID: string | null;
  caller: string | null;
}

/** Collects events seen by Deno listener services; await them with `waitFor`. */
export class EventLog {
  readonly events: SeenEvent[] = [];

  /** Events matching a predicate. */
  filter(pred: (e: SeenEvent) => boolean): SeenEvent[] {
    return this.events.filter(pred);
  }

  /** Count of events seen by one handler (and optionally one event name). */
  count(handler: string, event?: string): number {
    return this.events.filter((e) => e.handler === handler && (!event || e.event === event))
      .length;
  }

  /** Resolve with the first (past or future) event matching a predicate. */
  waitFor(
    pred: (e: SeenEvent) => boolean,
    what = "an event",
    timeout = 5000,
  ): Promise<SeenEvent> {
    return waitFor(() => this.events.find(pred), what, timeout, 10);
  }

  /**
   * A listener service schema recording into this log.
   *
   * @param name Service name.
   * @param subs Subscriptions: pattern → group (undefined = the service name).
   */
  service(
    name: string,
    subs: Record<string, string | undefined>,
  ): ServiceSchema {
    const events: ServiceSchema["events"] = {};
    for (const [pattern, group] of Object.entries(subs)) {
      const handler = (ctx: Context<unknown>) => {
        this.events.push({
          service: name,
          handler: pattern,
          group,
          event: ctx.eventName,
          data: ctx.params,
          groups: ctx.eventGroups,
          eventType: ctx.eventType,
          nodeID: ctx.nodeID,
          meta: { ...ctx.meta },
          headers: { ...ctx.headers },
          level: ctx.level,
          requestID: ctx.requestID,
          parentID: ctx.parentID,
          caller: ctx.caller,
        });
      };
      events[pattern] = group === undefined ? { handler } : { group, handler };
    }
    return { name, events };
  }
}

/** The context fields a test action reports back. */
export function describeCtx(ctx: Context<unknown>): Record<string, unknown> {
  return {
    id: ctx.id,
    level: ctx.level,
    requestID: ctx.requestID,
    parentID: ctx.parentID,
    caller: ctx.caller,
    nodeID: ctx.nodeID,
  };
}
