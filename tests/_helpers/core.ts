/**
 * Shared fixtures for the core-broker tests: brokers that stop themselves
 * (`await using`), a log capture sink, a unique memory bus per test, and a
 * deferred promise.
 *
 * @module
 */

import { type BrokerOptions, type LogEntry, type LogSink, ServiceBroker } from "../../mod.ts";

/** A broker that is stopped when the `await using` block ends. */
export type ScopedBroker = ServiceBroker & AsyncDisposable;

/**
 * A silent local broker (no transporter) that stops itself at scope end.
 *
 * @param options Broker options; `logger: false` unless given.
 * @returns The broker.
 */
export function scoped(options: BrokerOptions = {}): ScopedBroker {
  const broker = new ServiceBroker({ logger: false, ...options }) as ScopedBroker;
  broker[Symbol.asyncDispose] = () => broker.stop();
  return broker;
}

/** A unique `memory://` transporter URL: one bus per test, never shared. */
export function memoryBus(): string {
  return `memory://core-${crypto.randomUUID()}`;
}

/**
 * Options for a broker of a fast in-process cluster over `bus`.
 *
 * @param nodeID The node id.
 * @param bus A URL from {@linkcode memoryBus}.
 * @param extra More options.
 * @returns The options.
 */
export function clusterOptions(
  nodeID: string,
  bus: string,
  extra: BrokerOptions = {},
): BrokerOptions {
  return {
    nodeID,
    transporter: bus,
    logger: false,
    transit: { discoverWaitTime: 50, serviceChangedDebounceTime: 10 },
    registry: { stopDelay: 0 },
    ...extra,
  };
}

/** Captured log records and the sink that collects them. */
export interface LogCapture {
  readonly entries: LogEntry[];
  readonly sink: LogSink;
  /** The messages of records at `level`. */
  messages(level?: LogEntry["level"]): string[];
}

/** A log sink that records every entry. */
export function captureLogs(): LogCapture {
  const entries: LogEntry[] = [];
  return {
    entries,
    sink: (e) => entries.push(e),
    messages: (level) =>
      entries.filter((e) => level === undefined || e.level === level).map((e) => e.message),
  };
}

/** A promise with its resolve function exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** Make a {@linkcode Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Resolve once `n` values were pushed; the values in arrival order.
 *
 * @param n How many to wait for.
 * @returns `push` and the promise of the values.
 */
export function collector<T>(n: number): { push(v: T): void; done: Promise<T[]>; items: T[] } {
  const items: T[] = [];
  const d = deferred<T[]>();
  if (n === 0) d.resolve(items);
  return {
    items,
    push(v) {
      items.push(v);
      if (items.length === n) d.resolve(items);
    },
    done: d.promise,
  };
}

/**
 * Start brokers of one cluster and wait until each sees every service named.
 *
 * @param brokers The brokers.
 * @param services The full names every broker must see.
 */
export async function startCluster(brokers: ServiceBroker[], services: string[]): Promise<void> {
  await Promise.all(brokers.map((b) => b.start()));
  await Promise.all(brokers.map((b) => b.waitForServices(services, 3000, 5)));
}

/**
 * Wait until `cond()` is true, checking every few ms; fail after `timeout` ms.
 *
 * @param cond The condition.
 * @param what What is awaited, for the failure message.
 * @param timeout Give up after this many ms.
 */
export async function until(cond: () => boolean, what: string, timeout = 3000): Promise<void> {
  const end = Date.now() + timeout;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Wait until `broker` knows `count` endpoints of `action`.
 *
 * @param broker The broker.
 * @param action Full action name.
 * @param count Endpoints expected.
 */
export function endpoints(broker: ServiceBroker, action: string, count: number): Promise<void> {
  return until(
    () => (broker.registry.actions.get(action)?.items.length ?? 0) >= count,
    `${count} endpoints of ${action} on ${broker.nodeID}`,
  );
}
