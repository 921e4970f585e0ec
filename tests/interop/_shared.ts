/**
 * Shared plumbing of the interop suite (Denolecular ↔ real Moleculer 0.14 / 0.15 over NATS):
 * the version matrix, the skip rule, a Deno broker that disposes itself, an event recorder for
 * Deno services, and a poll helper with a deadline (the last three from `../transit/_util.ts`).
 *
 * Skip rule: the suite is ignored only when the Moleculer peers are not installed
 * (`cd tests && npm ci`) AND `CI` is unset. In CI a missing install fails the tests.
 *
 * `MOLECULER_PEER_DEBUG=1` prints the peers' stderr and the Deno brokers' logs.
 *
 * @module
 */

import {
  type MoleculerPeer,
  type MoleculerVersion,
  type PeerOptions,
  requirePeers,
  skipWithoutPeers,
  startMoleculerPeer,
} from "../_helpers/moleculer_peer.ts";
import type { NatsServer } from "../_helpers/nats_server.ts";

export {
  deferred,
  type DenoNode,
  type DenoNodeOptions,
  describeCtx,
  EventLog,
  type SeenEvent,
  startDeno,
  timed,
  waitFor,
} from "../transit/_util.ts";

/** One column of the interop matrix. */
export interface VersionCase {
  /** The Moleculer release the peer runs. */
  readonly version: MoleculerVersion;
  /** The protocol version the Deno broker must speak to it. */
  readonly protocol: "4" | "5";
}

/** Moleculer 0.14 speaks protocol 4, Moleculer 0.15 protocol 5. */
export const VERSIONS: readonly VersionCase[] = [
  { version: "0.14", protocol: "4" },
  { version: "0.15", protocol: "5" },
];

/** True when the interop tests are skipped (peers missing outside CI). */
export const IGNORE: boolean = skipWithoutPeers();
if (IGNORE) {
  console.warn(
    "Interop tests skipped: tests/node_modules is missing. Run `cd tests && npm ci` to enable them.",
  );
}

/**
 * Register one `Deno.test` per Moleculer version.
 *
 * @param name The scenario (the version is prefixed).
 * @param fn The test body.
 */
export function interopTest(
  name: string,
  fn: (t: Deno.TestContext, v: VersionCase) => Promise<void>,
): void {
  for (const v of VERSIONS) {
    Deno.test({
      name: `interop Moleculer ${v.version} (protocol ${v.protocol}): ${name}`,
      ignore: IGNORE,
      async fn(t) {
        requirePeers();
        await fn(t, v);
      },
    });
  }
}

/** Start a Moleculer peer of the given version on a NATS server (heartbeat 1 s / 5 s). */
export function startPeer(
  nats: NatsServer,
  v: VersionCase,
  nodeID: string,
  extra: Partial<PeerOptions> = {},
): Promise<MoleculerPeer> {
  return startMoleculerPeer({
    version: v.version,
    nodeID,
    transporter: nats.url,
    heartbeatInterval: 1,
    heartbeatTimeout: 5,
    ...extra,
  });
}
