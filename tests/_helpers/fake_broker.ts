/**
 * A small fake {@linkcode BrokerApi} for unit tests of the core: it records the calls and
 * events it is asked for and answers calls with a function the test gives. No `ServiceBroker`,
 * no transporter, no registry.
 *
 * @module
 */

import type { BrokerApi, CallOptions, EmitOptions, Logger } from "../../mod.ts";
import { denoRuntime } from "../../src/runtime/deno.ts";

/** One call or event the fake broker was asked for. */
export interface Recorded {
  readonly kind: "call" | "emit" | "broadcast" | "broadcastLocal";
  readonly name: string;
  readonly payload: unknown;
  readonly opts: CallOptions | EmitOptions;
}

/** A fake broker, and what it recorded. */
export interface FakeBroker extends BrokerApi {
  /** Every call and event, in order. */
  readonly recorded: Recorded[];
  /** The log lines, as `LEVEL module: message`. */
  readonly logs: string[];
}

/**
 * Make a fake broker.
 *
 * @param answer Answers `call(name, params, opts)`; resolves `undefined` when omitted.
 * @returns The fake.
 */
export function fakeBroker(
  answer: (name: string, params: unknown, opts: CallOptions) => unknown = () => undefined,
): FakeBroker {
  const recorded: Recorded[] = [];
  const logs: string[] = [];
  const logger = (module: string): Logger => {
    const line = (level: string) => (...args: unknown[]) =>
      logs.push(`${level} ${module}: ${args.map(String).join(" ")}`);
    return {
      trace: line("TRACE"),
      debug: line("DEBUG"),
      info: line("INFO"),
      warn: line("WARN"),
      error: line("ERROR"),
      fatal: line("FATAL"),
    } as unknown as Logger;
  };
  const event =
    (kind: Recorded["kind"]) => (name: string, payload?: unknown, opts?: EmitOptions) => {
      recorded.push({ kind, name, payload, opts: opts ?? {} });
      return Promise.resolve();
    };
  const fake: Partial<FakeBroker> = {
    recorded,
    logs,
    nodeID: "fake-node",
    namespace: "",
    instanceID: "fake-instance",
    logger: logger("BROKER"),
    runtime: denoRuntime,
    started: true,
    services: [],
    cacher: null,
    getLogger: logger,
    call: <R>(name: string, params?: unknown, opts?: CallOptions) => {
      recorded.push({ kind: "call", name, payload: params, opts: opts ?? {} });
      try {
        return Promise.resolve(answer(name, params, opts ?? {}) as R);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    emit: event("emit"),
    broadcast: event("broadcast"),
    broadcastLocal: event("broadcastLocal"),
  };
  return fake as FakeBroker;
}
