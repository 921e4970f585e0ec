// The broker options of each observability mode of bench/observability.ts, the same for
// Denolecular and Moleculer: tracing at rate 1 with the Event exporter (its default 5 s batches),
// metrics with the process metrics Moleculer collects by default.

/** @type {Record<string, Record<string, unknown>>} */
export const MODES = {
  off: {},
  tracing: {
    tracing: { enabled: true, sampling: { rate: 1 }, exporter: { type: "Event" } },
  },
  metrics: {
    metrics: { enabled: true, collectProcessMetrics: true },
  },
  both: {
    tracing: { enabled: true, sampling: { rate: 1 }, exporter: { type: "Event" } },
    metrics: { enabled: true, collectProcessMetrics: true },
  },
};
