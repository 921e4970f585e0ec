/**
 * Built-in middleware: metrics. Counts and times every action call (local, and sent to other
 * nodes) and every local event handler, and counts emits and broadcasts, in the metrics and with
 * the labels Moleculer 0.15's metrics middleware publishes (`moleculer.request.*`,
 * `moleculer.event.*`). The series of each handler are looked up once per caller and kept, so a
 * call pays for a few additions and two clock reads, not for hashing labels.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Handler, MiddlewareHooks } from "../core/middleware.ts";
import { METRIC, MetricType as T, MetricUnit as U } from "../metrics/constants.ts";
import type { MetricRegistry } from "../metrics/registry.ts";
import { epochMs } from "../_util/clock.ts";
import { isPromiseLike } from "../_util/async.ts";
import type {
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  HistogramSeries,
  ValueSeries,
} from "../metrics/types.ts";

/** The series one handler updates for one caller (and, for events, one event name). */
interface CallSeries {
  /** Their labels, as given (the error counter adds its own to them). */
  readonly labels: Record<string, unknown>;
  readonly total: ValueSeries;
  readonly active: ValueSeries;
  readonly time: HistogramSeries;
}

function errorLabels(err: unknown): Record<string, unknown> {
  const e = err as { name?: unknown; code?: unknown; type?: unknown } | null;
  return {
    errorName: e?.name ?? null,
    errorCode: e?.code ?? null,
    errorType: e?.type ?? null,
  };
}

/**
 * The metrics middleware of a broker, or null when metrics are off (nothing is wrapped). The
 * metrics are registered here, when the broker is made.
 *
 * @param metrics The broker's registry.
 * @returns The middleware, or null.
 */
export function metricsMiddleware(metrics: MetricRegistry): MiddlewareHooks | null {
  if (!metrics.enabled) return null;
  const reg = <M>(def: Parameters<MetricRegistry["register"]>[0]) => metrics.register(def) as M;
  const reqLabels = ["service", "action", "type", "caller"];
  const evLabels = ["service", "group", "event", "caller"];
  const reqTotal = reg<CounterMetric>({
    name: METRIC.MOLECULER_REQUEST_TOTAL,
    type: T.COUNTER,
    labelNames: reqLabels,
    unit: U.REQUEST,
    description: "Number of requests",
    rate: true,
  });
  const reqActive = reg<GaugeMetric>({
    name: METRIC.MOLECULER_REQUEST_ACTIVE,
    type: T.GAUGE,
    labelNames: reqLabels,
    unit: U.REQUEST,
    description: "Number of active requests",
  });
  const reqErrors = reg<CounterMetric>({
    name: METRIC.MOLECULER_REQUEST_ERROR_TOTAL,
    type: T.COUNTER,
    labelNames: [...reqLabels, "errorName", "errorCode", "errorType"],
    unit: U.REQUEST,
    description: "Number of request errors",
    rate: true,
  });
  const reqTime = reg<HistogramMetric>({
    name: METRIC.MOLECULER_REQUEST_TIME,
    type: T.HISTOGRAM,
    labelNames: reqLabels,
    quantiles: true,
    buckets: true,
    unit: U.MILLISECONDS,
    description: "Request times in milliseconds",
    rate: true,
  });
  const reqLevels = reg<CounterMetric>({
    name: METRIC.MOLECULER_REQUEST_LEVELS,
    type: T.COUNTER,
    labelNames: ["level"],
    unit: U.REQUEST,
    description: "Number of requests by context level",
  });
  const eventCounter = (name: string, description: string) =>
    reg<CounterMetric>({
      name,
      type: T.COUNTER,
      labelNames: ["event", "groups"],
      unit: U.EVENT,
      description,
      rate: true,
    });
  const emitTotal = eventCounter(METRIC.MOLECULER_EVENT_EMIT_TOTAL, "Number of emitted events");
  const broadcastTotal = eventCounter(
    METRIC.MOLECULER_EVENT_BROADCAST_TOTAL,
    "Number of broadcast events",
  );
  const broadcastLocalTotal = eventCounter(
    METRIC.MOLECULER_EVENT_BROADCASTLOCAL_TOTAL,
    "Number of local broadcast events",
  );
  const evTotal = reg<CounterMetric>({
    name: METRIC.MOLECULER_EVENT_RECEIVED_TOTAL,
    type: T.COUNTER,
    labelNames: evLabels,
    unit: U.EVENT,
    description: "Number of received events",
    rate: true,
  });
  const evActive = reg<GaugeMetric>({
    name: METRIC.MOLECULER_EVENT_RECEIVED_ACTIVE,
    type: T.GAUGE,
    labelNames: evLabels,
    unit: U.REQUEST,
    description: "Number of active event executions",
  });
  const evErrors = reg<CounterMetric>({
    name: METRIC.MOLECULER_EVENT_RECEIVED_ERROR_TOTAL,
    type: T.COUNTER,
    labelNames: [...evLabels, "errorName", "errorCode", "errorType"],
    unit: U.REQUEST,
    description: "Number of event execution errors",
    rate: true,
  });
  const evTime = reg<HistogramMetric>({
    name: METRIC.MOLECULER_EVENT_RECEIVED_TIME,
    type: T.HISTOGRAM,
    labelNames: evLabels,
    quantiles: true,
    buckets: true,
    unit: U.MILLISECONDS,
    description: "Execution time of events in milliseconds",
    rate: true,
  });
  reg({
    name: METRIC.MOLECULER_TRANSIT_REQUESTS_ACTIVE,
    type: T.GAUGE,
    unit: U.REQUEST,
    description: "Number of active requests",
  });

  const levelSeries: ValueSeries[] = [];
  const levelOf = (level: number) => levelSeries[level] ??= reqLevels.series({ level });

  function wrapAction(
    type: "local" | "remote",
    next: Handler,
    name: string,
    service: string | null,
  ) {
    const byCaller = new Map<string | null, CallSeries>();
    // Most actions have one caller: its series without a map lookup.
    let lastCaller: string | null | undefined;
    let last: CallSeries | undefined;
    const seriesOf = (caller: string | null): CallSeries => {
      if (caller === lastCaller) return last!;
      let s = byCaller.get(caller);
      if (!s) {
        const labels = { service, action: name, caller, type };
        s = {
          labels,
          total: reqTotal.series(labels),
          active: reqActive.series(labels),
          time: reqTime.series(labels),
        };
        byCaller.set(caller, s);
      }
      lastCaller = caller;
      return last = s;
    };
    return (ctx: Context) => {
      const s = seriesOf(ctx.caller);
      // One clock read for the start: the series' timestamps are derived from it.
      const start = performance.now();
      const now = epochMs(start);
      reqTotal.add(s.total, 1, now);
      reqActive.add(s.active, 1, now);
      reqLevels.add(levelOf(ctx.level), 1, now);
      let result: unknown;
      try {
        result = next(ctx);
      } catch (err) {
        return actionFailed(s, start, err);
      }
      // A handler that returned its value (no promise) ends here, without a promise of ours.
      if (!isPromiseLike(result)) {
        actionEnded(s, start);
        return result;
      }
      return Promise.resolve(result).then((res) => {
        actionEnded(s, start);
        return res;
      }, (err) => actionFailed(s, start, err));
    };
  }

  /** A call of one action by one caller ended: its time, one request less active. */
  const actionEnded = (s: CallSeries, start: number): void => {
    const end = performance.now();
    const now = epochMs(end);
    reqTime.record(s.time, end - start, now);
    reqActive.add(s.active, -1, now);
  };

  /** A call failed: it ended, and the error is counted. */
  const actionFailed = (s: CallSeries, start: number, err: unknown): never => {
    actionEnded(s, start);
    reqErrors.increment({ ...s.labels, ...errorLabels(err) });
    throw err;
  };

  /** An event handler ended: its time, one execution less active. */
  const eventEnded = (s: CallSeries, start: number): void => {
    const end = performance.now();
    const now = epochMs(end);
    evTime.record(s.time, end - start, now);
    evActive.add(s.active, -1, now);
  };

  /** An event handler failed: it ended, and the error is counted. */
  const eventFailed = (s: CallSeries, start: number, err: unknown): never => {
    eventEnded(s, start);
    evErrors.increment({ ...s.labels, ...errorLabels(err) });
    throw err;
  };

  const counting = (metric: CounterMetric) => {
    const byName = new Map<string, ValueSeries>();
    return <F extends (name: string, ...rest: never[]) => unknown>(next: F): F =>
      ((name: string, ...rest: never[]) => {
        let s = byName.get(name);
        if (!s) byName.set(name, s = metric.series({ event: name }));
        metric.add(s, 1);
        return next(name, ...rest);
      }) as F;
  };

  return {
    name: "Metrics",
    localAction: (next, action) =>
      wrapAction("local", next, action.name, action.service?.fullName ?? null),
    remoteAction: (next, action) =>
      wrapAction(
        "remote",
        next,
        action.name,
        action.name.includes(".") ? action.name.slice(0, action.name.lastIndexOf(".")) : null,
      ),
    localEvent(next, event) {
      const service = event.service.name;
      const group = event.group || service;
      // By event name, then by caller: no key string to build per call.
      const byEvent = new Map<string | null, Map<string | null, CallSeries>>();
      const seriesOf = (eventName: string | null, caller: string | null): CallSeries => {
        let byCaller = byEvent.get(eventName);
        if (!byCaller) byEvent.set(eventName, byCaller = new Map());
        let s = byCaller.get(caller);
        if (!s) {
          const labels = { service, event: eventName, group, caller };
          s = {
            labels,
            total: evTotal.series(labels),
            active: evActive.series(labels),
            time: evTime.series(labels),
          };
          byCaller.set(caller, s);
        }
        return s;
      };
      return (ctx: Context) => {
        const s = seriesOf(ctx.eventName, ctx.caller);
        const start = performance.now();
        const now = epochMs(start);
        evTotal.add(s.total, 1, now);
        evActive.add(s.active, 1, now);
        let result: unknown;
        try {
          result = next(ctx);
        } catch (err) {
          return eventFailed(s, start, err);
        }
        if (!isPromiseLike(result)) return eventEnded(s, start);
        return Promise.resolve(result).then(
          () => eventEnded(s, start),
          (err) => eventFailed(s, start, err),
        );
      };
    },
    emit: counting(emitTotal),
    broadcast: counting(broadcastTotal),
    broadcastLocal: counting(broadcastLocalTotal),
  };
}
