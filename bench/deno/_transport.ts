/**
 * Shared bits of the Deno nodes of bench/compare.ts: transport selection and the line protocol
 * with the orchestrator (JSON lines on stdout, commands on stdin).
 *
 * `"node"` is `NatsTransporter` as shipped (nats.js over `node:net`); `"deno"` is the same
 * `NatsTransporter` with the client's transport factory swapped for `DenoTransport`
 * (src/transporters/nats_deno.ts) while it connects.
 *
 * @module
 */

import { setTransportFactory, type Transport } from "@nats-io/nats-core/internal";
import { NatsTransporter } from "../../src/transporters/nats.ts";
import type { TransporterListener } from "../../src/transporters/transporter.ts";
import { DenoTransport } from "../../src/transporters/nats_deno.ts";

/** Which socket layer the NATS client uses. */
export type TransportKind = "node" | "deno";

let made = 0;

/** How many DenoTransport instances the factory made (proves the swap took effect). */
export function denoTransportsMade(): number {
  return made;
}

/**
 * `NatsTransporter` whose connection runs on `DenoTransport`. `NatsTransporter` installs the node
 * transport factory and then awaits before the client asks the factory for a transport (the
 * client resolves the server first), so installing ours right after the call starts wins.
 */
class DenoSocketNatsTransporter extends NatsTransporter {
  override connect(listener: TransporterListener): Promise<void> {
    const p = super.connect(listener);
    setTransportFactory({
      factory: (): Transport => {
        made++;
        return new DenoTransport();
      },
    });
    return p;
  }
}

/**
 * A NATS transporter for the bench.
 *
 * @param url The server URL.
 * @param kind Which socket layer.
 * @returns The transporter.
 */
export function natsTransporter(url: string, kind: TransportKind): NatsTransporter {
  return kind === "deno" ? new DenoSocketNatsTransporter(url) : new NatsTransporter(url);
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

/** The options object passed as the first argument. */
export function options<T>(): T {
  return JSON.parse(Deno.args[0] ?? "{}") as T;
}
