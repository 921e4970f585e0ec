/**
 * Shared bits of the Deno nodes of bench/compare.ts: transport selection and the line protocol
 * with the orchestrator (JSON lines on stdout, commands on stdin).
 *
 * `"wire"` is `NatsTransporter` as shipped (`transport: "wire"`, the default: the lean client of
 * src/transporters/nats/wire/ on Deno sockets); `"deno"` is `transport: "deno"` (nats.js over
 * `DenoTransport` of src/transporters/nats/deno_transport.ts, the same Deno sockets); `"node"` is
 * `transport: "node"` (nats.js over `node:net`).
 *
 * @module
 */

import { NatsTransporter } from "../../src/transporters/nats/nats.ts";
import { DenoTransport } from "../../src/transporters/nats/deno_transport.ts";
import { WireClient } from "../../src/transporters/nats/wire/client.ts";

/** Which socket layer the NATS client uses. */
export type TransportKind = "node" | "deno" | "wire";

let made = 0;
// Count the connections opened on Deno's sockets in this process (DenoTransport, or the wire
// client): the orchestrator checks that the "deno" nodes really ran on them.
const connect = DenoTransport.prototype.connect;
DenoTransport.prototype.connect = function (this: DenoTransport, ...args) {
  made++;
  return connect.apply(this, args);
};
const wireConnect = WireClient.prototype.connect;
WireClient.prototype.connect = function (this: WireClient, ...args) {
  made++;
  return wireConnect.apply(this, args);
};

/** How many Deno-socket connections were opened (proves the option took effect). */
export function denoTransportsMade(): number {
  return made;
}

/**
 * A NATS transporter for the bench.
 *
 * @param url The server URL.
 * @param kind Which socket layer.
 * @returns The transporter.
 */
export function natsTransporter(url: string, kind: TransportKind): NatsTransporter {
  return new NatsTransporter({ url, transport: kind });
}

/** Lines of stdin; ends when the orchestrator closes it. */
export async function* stdinLines(): AsyncGenerator<string> {
  let rest = "";
  try {
    for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      yield* parts;
    }
  } catch {
    // closed
  }
  if (rest) yield rest;
}

/** Resolves when stdin closes: the orchestrator went away or is done with us. */
export async function stdinClosed(): Promise<void> {
  for await (const _ of stdinLines()) { /* ignore input */ }
}

/** Print one JSON line for the orchestrator. */
export function report(obj: Record<string, unknown>): void {
  console.log(JSON.stringify(obj));
}

/** What a process that answers samples may add to them, and the other commands it takes. */
export interface SampleOptions {
  /** Fields added to each sample line (read after the GC, so its garbage is not measured). */
  extra?: () => Record<string, unknown>;
  /** Any other stdin line; awaited before the next line is read. */
  command?: (line: string) => void | Promise<void>;
}

/**
 * Answer each stdin line `sample` with `{type: "sample", gc, rss, heapUsed, heapTotal, external}`
 * (bytes, `Deno.memoryUsage()`), taken right after a full GC when one is exposed
 * (`--v8-flags=--expose-gc`; `gc` says whether it was). Returns when stdin closes.
 *
 * @param opts Extra sample fields and a handler for other lines; none by default.
 */
export async function answerSamples(opts: SampleOptions = {}): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for await (const raw of stdinLines()) {
    const line = raw.trim();
    if (line !== "sample") {
      if (line) await opts.command?.(line);
      continue;
    }
    // Twice: memory held by weak references and finalizers is only reclaimed by a later cycle.
    gc?.();
    gc?.();
    const { rss, heapUsed, heapTotal, external } = Deno.memoryUsage();
    report({
      type: "sample",
      gc: gc !== undefined,
      rss,
      heapUsed,
      heapTotal,
      external,
      ...opts.extra?.(),
    });
  }
}

/** The options object passed as the first argument. */
export function options<T>(): T {
  return JSON.parse(Deno.args[0] ?? "{}") as T;
}
