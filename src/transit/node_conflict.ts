/**
 * The nodeID-conflict probe: what this node does when an INFO under its own nodeID comes from
 * another instance, and how two live instances under one nodeID settle which one yields.
 *
 * While this node starts, such an INFO is the running instance answering our DISCOVER: this one
 * yields at once. Once running, one packet is no proof (a stray or forged packet must not stop a
 * healthy node for good), so the claim is checked first:
 * - our INFO is broadcast again: the other nodes, which took the claim for ours, get our real
 *   instance and services back, and a Moleculer instance under our nodeID exits on it
 *   (Moleculer's rule);
 * - a PING goes to `PING.<nodeID>` with a random id that only another live Denolecular instance
 *   can answer (Moleculer drops PINGs under its own nodeID).
 *
 * On that PONG the conflict is real and the instance with the greater instanceID yields, so
 * exactly one survives; with no answer within `max(1 s, discoverWaitTime)` the INFO is ignored.
 *
 * @example A running node checks a claim, and another live instance backs it up
 * ```ts
 * import { NodeConflict } from "./node_conflict.ts";
 *
 * let probe = "";
 * const conflict = new NodeConflict({
 *   nodeID: "api-1",
 *   instanceID: "b6f0",
 *   logger: console,
 *   isReady: () => true,
 *   isStopping: () => false,
 *   announce: () => console.log("INFO broadcast again"),
 *   answerDiscover: () => {},
 *   sendPing: (id) => probe = id,
 *   sendPong: () => {},
 *   isOwnPing: () => false,
 *   yieldNodeID: (other) => console.log("yield to", other),
 *   warn: (_key, message) => console.warn(message),
 * }, { discoverWaitTime: 50 });
 * conflict.onInfo("0a1c"); // INFO broadcast again, then the probe PING
 * conflict.onPong({ id: probe, instanceID: "0a1c" }); // yield to 0a1c: it has the smaller id
 * console.log(conflict.found); // "0a1c"
 * ```
 *
 * @module
 */

import type { Logger } from "../logging.ts";
import type { PacketPayload } from "../serializers/serializer.ts";
import { printable } from "../_util/values.ts";
import { PacketType } from "../core/protocol.ts";

/** The shortest wait for an answer to the probe PING. */
const MIN_PROBE_MS = 1_000;

/** What the probe needs from transit. */
export interface NodeConflictHost {
  /** This node's id (the one claimed). */
  readonly nodeID: string;
  /** This broker instance's id; the greater of two conflicting instances yields. */
  readonly instanceID: string;
  /** Where the outcome is logged. */
  readonly logger: Pick<Logger, "info" | "warn">;
  /** True once local services are announced. */
  isReady(): boolean;
  /** True once the stop sequence has begun. */
  isStopping(): boolean;
  /** Broadcast this node's INFO. */
  announce(): void;
  /** Send this node's INFO to `INFO.<nodeID>`: to a newcomer under our nodeID, if any. */
  answerDiscover(): void;
  /** Send a PING under, and to, our own nodeID. */
  sendPing(id: string): void;
  /** Answer another instance's probe: a PONG to our own nodeID, with our instanceID. */
  sendPong(time: unknown, id: string): void;
  /** Whether `id` is one of this node's own pending pings. */
  isOwnPing(id: string): boolean;
  /** Another live instance holds the nodeID: this one must go (and send nothing more). */
  yieldNodeID(otherInstanceID: string): void;
  /** A rate-limited warning. */
  warn(key: string, message: string): void;
}

/** A claim being checked. */
interface Probe {
  readonly instanceID: string;
  readonly nonce: string;
  readonly timer: ReturnType<typeof setTimeout>;
  /** More conflicting INFOs came during the check: announce ourselves again after it. */
  again: boolean;
}

/** Detects and settles another instance running under this node's nodeID. */
export class NodeConflict {
  readonly #host: NodeConflictHost;
  readonly #probeMs: number;
  #found: string | undefined;
  #probe: Probe | undefined;

  /**
   * @param host Transit's side.
   * @param opts `discoverWaitTime`, ms: the probe waits `max(1 s, discoverWaitTime)`.
   */
  constructor(host: NodeConflictHost, opts: { readonly discoverWaitTime: number }) {
    this.#host = host;
    this.#probeMs = Math.max(MIN_PROBE_MS, opts.discoverWaitTime);
  }

  /**
   * The instance that holds our nodeID, once a conflict is certain (or once a successor took
   * over while this node stops). From then on nothing may be sent under the nodeID.
   */
  get found(): string | undefined {
    return this.#found;
  }

  /** True while a claim is being checked. */
  get checking(): boolean {
    return this.#probe !== undefined;
  }

  /**
   * A packet under our own nodeID: our own broadcasts coming back, another instance claiming
   * the nodeID, or a probe's PING and PONG.
   *
   * A DISCOVER under our own nodeID comes from a newcomer reusing it (or is our own, on
   * reconnect). Once ready, it is answered: our INFO on `INFO.<nodeID>` shows the newcomer the
   * conflict before it announces itself. Moleculer drops it, so there it is the running node that
   * finds the conflict, on the newcomer's INFO. A node that is leaving lets its successor start.
   *
   * @param type The packet type.
   * @param p The payload (untrusted).
   * @returns True when it is to be handled as any other packet (a REQ, RES or EVENT to itself).
   */
  onOwnPacket(type: PacketType, p: PacketPayload): boolean {
    switch (type) {
      case PacketType.INFO:
        if (p.instanceID !== this.#host.instanceID) this.onInfo(p.instanceID);
        return false;
      case PacketType.PING:
        this.onPing(p);
        return false;
      case PacketType.PONG:
        this.onPong(p);
        return false;
      case PacketType.DISCOVER:
        if (!this.#host.isStopping()) this.#host.answerDiscover();
        return false;
      case PacketType.REQUEST:
      case PacketType.RESPONSE:
      case PacketType.EVENT:
        return true;
      default:
        return false;
    }
  }

  /**
   * An INFO under our own nodeID from another instance.
   *
   * @param claimed The INFO's `instanceID` (untrusted).
   */
  onInfo(claimed: unknown): void {
    if (this.#found !== undefined) return;
    const host = this.#host;
    const valid = typeof claimed === "string" && claimed !== "";
    if (!valid && (host.isStopping() || !host.isReady())) {
      host.warn("own INFO", "Dropped an INFO under this node's nodeID without an instanceID");
      return;
    }
    // Without an instanceID it is no real node, but the other nodes applied it all the same:
    // it is checked (and answered with our INFO) like any claim.
    const instanceID = valid ? claimed : "(none)";
    if (host.isStopping()) {
      // Our successor is already up: leave quietly, without a DISCONNECT in its name.
      this.#found = instanceID;
      host.logger.info(
        `A new instance (${printable(instanceID)}) took over the nodeID while this one stops`,
      );
      return;
    }
    if (!host.isReady()) {
      this.#found = instanceID;
      host.yieldNodeID(instanceID);
      return;
    }
    if (this.#probe) {
      this.#probe.again = true; // one check at a time
      return;
    }
    const nonce = crypto.randomUUID();
    const timer = setTimeout(() => {
      const again = this.#probe?.again;
      this.#probe = undefined;
      if (again) host.announce();
      host.warn(
        "conflict unconfirmed",
        `Ignored an INFO under this node's nodeID from instance '${printable(instanceID)}': ` +
          "no such Denolecular instance answered (a stray or forged packet, or a Moleculer " +
          "node that exits on this node's INFO)",
      );
    }, this.#probeMs);
    this.#probe = { instanceID, nonce, timer, again: false };
    host.warn(
      "conflict check",
      `An INFO claims this node's nodeID for instance '${printable(instanceID)}': checking it`,
    );
    host.announce();
    host.sendPing(nonce);
  }

  /**
   * A PING under our own nodeID. Our own probe or ping coming back is ignored; another
   * instance checking a claim is answered, so that it knows we are alive.
   *
   * @param p The PING payload (untrusted).
   */
  onPing(p: PacketPayload): void {
    const id = p.id;
    if (typeof id !== "string") return;
    const host = this.#host;
    if (this.#probe?.nonce === id || host.isOwnPing(id) || !host.isReady() || host.isStopping()) {
      return;
    }
    host.sendPong(p.time, id);
  }

  /**
   * A PONG under our own nodeID: when it answers our probe, the conflict is real and the
   * greater instanceID yields.
   *
   * @param p The PONG payload (untrusted).
   */
  onPong(p: PacketPayload): void {
    const id = p.id;
    if (typeof id !== "string") return;
    const host = this.#host;
    const probe = this.#probe;
    if (!probe || probe.nonce !== id || p.instanceID === host.instanceID) return;
    clearTimeout(probe.timer);
    this.#probe = undefined;
    const other = typeof p.instanceID === "string" && p.instanceID !== ""
      ? p.instanceID
      : probe.instanceID;
    if (host.instanceID < other) {
      // We stay. The other instance yields once it checks the conflict in turn: make sure it
      // hears of it (and the others see us again).
      host.logger.warn(
        `Instance '${printable(other)}' also runs under this node's nodeID; ` +
          "it yields (the greater instanceID does)",
      );
      host.announce();
      return;
    }
    this.#found = other;
    host.yieldNodeID(other);
  }

  /** Abandon a check in progress (transit stops). */
  stop(): void {
    if (this.#probe) clearTimeout(this.#probe.timer);
    this.#probe = undefined;
  }
}
