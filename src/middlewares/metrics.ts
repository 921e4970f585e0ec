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
import type {
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  HistogramSeries,
  ValueSeries,
} from "../metrics/types.ts";

interface CallSeries {
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
    const seriesOf = (caller: string | null): CallSeries => {
      let s = byCaller.get(caller);
      if (!s) {
        const labels = { service, action: name, caller, type };
        s = {
          total: reqTotal.series(labels),
          active: reqActive.series(labels),
          time: reqTime.series(labels),
        };
        byCaller.set(caller, s);
      }
      return s;
    };
    return (ctx: Context) => {
      const caller = ctx.caller;
      const s = seriesOf(caller);
      const now = Date.now();
      reqTotal.add(s.total, 1, now);
      reqActive.add(s.active, 1, now);
      reqLevels.add(levelOf(ctx.level), 1, now);
      const start = performance.now();
      const end = () => {
        reqTime.record(s.time, performance.now() - start);
        reqActive.add(s.active, -1);
      };
      const failed = (err: unknown) => {
        end();
        reqErrors.increment({ service, action: name, caller, type, ...errorLabels(err) });
        throw err;
      };
      let result: unknown;
      try {
        result = next(ctx);
      } catch (err) {
        return failed(err);
      }
      return Promise.resolve(result).then((res) => {
        end();
        return res;
      }, failed);
    };
  }

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
      const byKey = new Map<string, CallSeries>();
      return (ctx: Context) => {
        const caller = ctx.caller;
        const eventName = ctx.eventName;
        const key = `${eventName}|${caller}`;
        let s = byKey.get(key);
        if (!s) {
          const labels = { service, event: eventName, group, caller };
          s = {
            total: evTotal.series(labels),
            active: evActive.series(labels),
            time: evTime.series(labels),
          };
          byKey.set(key, s);
        }
        const series = s;
        evTotal.add(series.total, 1);
        evActive.add(series.active, 1);
        const start = performance.now();
        const end = () => {
          evTime.record(series.time, performance.now() - start);
          evActive.add(series.active, -1);
        };
        const failed = (err: unknown) => {
          end();
          evErrors.increment({ service, event: eventName, group, caller, ...errorLabels(err) });
          throw err;
        };
        let result: unknown;
        try {
          result = next(ctx);
        } catch (err) {
          return failed(err);
        }
        return Promise.resolve(result).then(end, failed);
      };
    },
    emit: counting(emitTotal),
    broadcast: counting(broadcastTotal),
    broadcastLocal: counting(broadcastLocalTotal),
  };
}
