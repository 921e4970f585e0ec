/**
 * Packet metrics without touching the protocol engine: a transporter wrapped so that every packet
 * it sends or receives counts in `moleculer.transit.publish.total` / `receive.total` (by packet
 * type) and `moleculer.transporter.packets.{sent,received}.{total,bytes}`, as Moleculer counts them.
 *
 * @module
 */

import type {
  Transporter,
  TransporterHost,
  TransporterSubscription,
} from "../transporters/transporter.ts";
import type { PacketType } from "../core/protocol.ts";
import { METRIC, MetricType, MetricUnit } from "./constants.ts";
import type { MetricRegistry } from "./registry.ts";
import type { CounterMetric, ValueSeries } from "./types.ts";

/** The packet counters, by packet type. */
class PacketCounters {
  readonly #published: CounterMetric;
  readonly #received: CounterMetric;
  readonly #byType = new Map<string, { out: ValueSeries; in: ValueSeries }>();
  readonly sentTotal: ValueSeries;
  readonly sentBytes: ValueSeries;
  readonly receivedTotal: ValueSeries;
  readonly receivedBytes: ValueSeries;
  readonly sent: CounterMetric;
  readonly sentB: CounterMetric;
  readonly recv: CounterMetric;
  readonly recvB: CounterMetric;

  constructor(metrics: MetricRegistry) {
    const counter = (name: string, unit: string, description: string, labelNames?: string[]) =>
      metrics.register({
        name,
        type: MetricType.COUNTER,
        unit,
        description,
        rate: true,
        ...(labelNames ? { labelNames } : {}),
      }) as CounterMetric;
    this.#published = counter(
      METRIC.MOLECULER_TRANSIT_PUBLISH_TOTAL,
      MetricUnit.PACKET,
      "Number of published packets",
      ["type"],
    );
    this.#received = counter(
      METRIC.MOLECULER_TRANSIT_RECEIVE_TOTAL,
      MetricUnit.PACKET,
      "Number of received packets",
      ["type"],
    );
    this.sent = counter(
      METRIC.MOLECULER_TRANSPORTER_PACKETS_SENT_TOTAL,
      MetricUnit.PACKET,
      "Number of sent packets",
    );
    this.sentB = counter(
      METRIC.MOLECULER_TRANSPORTER_PACKETS_SENT_BYTES,
      MetricUnit.BYTE,
      "Number of sent bytes",
    );
    this.recv = counter(
      METRIC.MOLECULER_TRANSPORTER_PACKETS_RECEIVED_TOTAL,
      MetricUnit.PACKET,
      "Number of received packets",
    );
    this.recvB = counter(
      METRIC.MOLECULER_TRANSPORTER_PACKETS_RECEIVED_BYTES,
      MetricUnit.BYTE,
      "Number of received bytes",
    );
    this.sentTotal = this.sent.series();
    this.sentBytes = this.sentB.series();
    this.receivedTotal = this.recv.series();
    this.receivedBytes = this.recvB.series();
  }

  #of(type: string) {
    let s = this.#byType.get(type);
    if (!s) {
      s = { out: this.#published.series({ type }), in: this.#received.series({ type }) };
      this.#byType.set(type, s);
    }
    return s;
  }

  out(type: string, bytes: number): void {
    const now = Date.now();
    this.#published.add(this.#of(type).out, 1, now);
    this.sent.add(this.sentTotal, 1, now);
    this.sentB.add(this.sentBytes, bytes, now);
  }

  in(type: string, bytes: number): void {
    const now = Date.now();
    this.#received.add(this.#of(type).in, 1, now);
    this.recv.add(this.receivedTotal, 1, now);
    this.recvB.add(this.receivedBytes, bytes, now);
  }
}

/**
 * A transporter that counts the packets of another.
 *
 * @example
 * ```ts ignore
 * const counted = countPackets(resolveTransporter("nats://127.0.0.1:4222"), broker.metrics);
 * ```
 */
class CountingTransporter implements Transporter {
  readonly #inner: Transporter;
  readonly #counters: PacketCounters;

  constructor(inner: Transporter, counters: PacketCounters) {
    this.#inner = inner;
    this.#counters = counters;
  }

  get name(): string {
    return this.#inner.name;
  }
  get hasBuiltInBalancer(): boolean {
    return this.#inner.hasBuiltInBalancer;
  }
  get connected(): boolean {
    return this.#inner.connected;
  }
  get maxPayload(): number | undefined {
    return this.#inner.maxPayload;
  }

  connect(host: TransporterHost): Promise<void> {
    const counters = this.#counters;
    // The host's other members (namespace, prefix, listeners) are read through the prototype.
    const counted: TransporterHost = Object.create(host, {
      receive: {
        value(type: PacketType, data: Uint8Array) {
          counters.in(type, data.byteLength);
          host.receive(type, data);
        },
      },
    });
    return this.#inner.connect(counted);
  }
  disconnect(): Promise<void> {
    return this.#inner.disconnect();
  }
  subscribe(type: PacketType, nodeID?: string): Promise<TransporterSubscription> {
    return this.#inner.subscribe(type, nodeID);
  }
  subscribeBalancedRequest(action: string): Promise<TransporterSubscription> {
    return this.#inner.subscribeBalancedRequest(action);
  }
  subscribeBalancedEvent(event: string, group: string): Promise<TransporterSubscription> {
    return this.#inner.subscribeBalancedEvent(event, group);
  }
  publish(type: PacketType, target: string | undefined, data: Uint8Array): Promise<void> {
    this.#counters.out(type, data.byteLength);
    return this.#inner.publish(type, target, data);
  }
  publishBalancedRequest(action: string, data: Uint8Array): Promise<void> {
    this.#counters.out("REQ", data.byteLength);
    return this.#inner.publishBalancedRequest(action, data);
  }
  publishBalancedEvent(event: string, group: string, data: Uint8Array): Promise<void> {
    this.#counters.out("EVENT", data.byteLength);
    return this.#inner.publishBalancedEvent(event, group, data);
  }
}

/**
 * The transporter with its packets counted in `metrics`, or the transporter itself while metrics
 * are off.
 *
 * @param transporter The transporter.
 * @param metrics The registry.
 * @returns The transporter to use.
 */
export function countPackets(transporter: Transporter, metrics: MetricRegistry): Transporter {
  if (!metrics.enabled) return transporter;
  return new CountingTransporter(transporter, new PacketCounters(metrics));
}
