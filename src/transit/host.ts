/**
 * Transit's contract with its broker: what the engine needs from the node it runs in
 * ({@linkcode TransitHost}), and its options.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Logger } from "../logging.ts";
import type { NodeInfo, Registry } from "../registry/registry.ts";
import type { EventPacket, RequestPacket } from "./packets.ts";
import type { ProtocolVersion } from "../core/protocol.ts";

/** The result of running an incoming request locally. */
export interface RequestOutcome {
  /** The context the handler ran in (its meta and response headers go back), if one was made. */
  readonly ctx: Context | null;
  /** What the handler returned. */
  readonly data: unknown;
}

/** What transit needs from its broker. */
export interface TransitHost {
  /** This node's id. */
  readonly nodeID: string;
  /** This broker instance's random id. */
  readonly instanceID: string;
  /** The broker's registry. */
  readonly registry: Registry;
  /** The logger of transit. */
  readonly logger: Logger;
  /**
   * Run a request from another node on a local endpoint: the outcome itself when the handler
   * answered synchronously (no promise to settle on the hot path), else a promise of it; the
   * handler's error as a rejection.
   */
  runRequest(packet: RequestPacket, sender: string): RequestOutcome | Promise<RequestOutcome>;
  /** Deliver an event from another node to local handlers. */
  runEvent(packet: EventPacket, sender: string): Promise<void>;
  /** Announce a node-state change on the local event bus. */
  nodeConnected(node: NodeInfo, reconnected: boolean): void;
  /** Announce an updated node. */
  nodeUpdated(node: NodeInfo): void;
  /** Announce a lost node. */
  nodeDisconnected(node: NodeInfo, unexpected: boolean): void;
  /** The transporter connected (or reconnected). */
  transporterConnected(wasReconnect: boolean): void;
  /** The transporter lost its connection. */
  transporterDisconnected(): void;
  /** Another process claims our nodeID. */
  nodeIDConflict(otherInstanceID: string): void;
  /** Current CPU usage 0–100, or null when unknown. */
  cpuUsage(): number | null;
}

/** Options of {@linkcode Transit}. */
export interface TransitOptions {
  /** The broker namespace; `""` for none. */
  readonly namespace: string;
  /** The protocol this node speaks (and accepts, unless `disableVersionCheck`). */
  readonly protocolVersion: ProtocolVersion;
  /** Seconds between heartbeats. */
  readonly heartbeatInterval: number;
  /** Seconds of silence after which a node is offline. */
  readonly heartbeatTimeout: number;
  /** Seconds after which an offline node is forgotten. */
  readonly cleanOfflineNodesTimeout: number;
  /** Most requests waiting for a response at once. */
  readonly maxQueueSize: number;
  /** Accept packets of any protocol version. */
  readonly disableVersionCheck: boolean;
  /** Milliseconds to wait after a service change before announcing the services. */
  readonly serviceChangedDebounceTime: number;
  /** Milliseconds to wait for the cluster's answers to the first DISCOVER. */
  readonly discoverWaitTime: number;
  /** Milliseconds between the empty INFO and the refusal of requests at stop. */
  readonly stopDelay: number;
  /**
   * The transporter balances (Moleculer's `disableBalancer`): each broadcast INFO (re)makes the
   * balanced request and event subscriptions of the announced services. Default false.
   */
  readonly disableBalancer?: boolean;
  /** Largest stream chunk sent, in bytes; bigger ones are cut. 0 = no limit. Default 256 KiB. */
  readonly maxChunkSize?: number;
  /** Bytes of a stream that may wait for its reader. Default 16 MiB. */
  readonly maxStreamBuffer?: number;
}
