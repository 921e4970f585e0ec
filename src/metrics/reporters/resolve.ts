/**
 * The reporters by name: `"Console"`, `"Event"`, `"CSV"`, `"Prometheus"`, `"OpenTelemetry"` (any
 * case), as a name, as `{ type, options }`, or an instance. The OpenTelemetry reporter loads its
 * API by `import()` when it starts.
 *
 * @module
 */

import { BrokerOptionsError } from "../../errors.ts";
import { isRecord } from "../../_util/values.ts";
import type { ReporterOption } from "../options.ts";
import { ConsoleReporter } from "./console.ts";
import { CSVReporter } from "./csv.ts";
import { EventReporter } from "./event.ts";
import { OpenTelemetryReporter } from "./opentelemetry.ts";
import { PrometheusReporter } from "./prometheus.ts";
import type { MetricReporter } from "./reporter.ts";

// deno-lint-ignore no-explicit-any
const REPORTERS: Record<string, new (opts?: any) => MetricReporter> = {
  console: ConsoleReporter,
  csv: CSVReporter,
  event: EventReporter,
  opentelemetry: OpenTelemetryReporter,
  prometheus: PrometheusReporter,
};

/** The reporter names this module knows. */
export const REPORTER_NAMES: readonly string[] = [
  "Console",
  "CSV",
  "Event",
  "OpenTelemetry",
  "Prometheus",
];

/**
 * The reporter of one `metrics.reporter` entry.
 *
 * @param option The entry.
 * @param index Its place in the list, for the error message.
 * @returns The reporter.
 * @throws {BrokerOptionsError} for an unknown name.
 */
export function resolveReporter(option: ReporterOption, index = 0): MetricReporter {
  if (typeof option !== "string" && !("type" in option && typeof option.type === "string")) {
    return option as MetricReporter;
  }
  const type = typeof option === "string" ? option : option.type;
  const options = typeof option === "string" ? {} : option.options ?? {};
  const Reporter = REPORTERS[type.toLowerCase()];
  if (!Reporter) {
    throw new BrokerOptionsError(
      `Unknown metric reporter '${type}' in 'metrics.reporter'${
        index > 0 ? `[${index}]` : ""
      }. Known reporters: ${REPORTER_NAMES.join(", ")}`,
      { option: "metrics.reporter", value: type },
    );
  }
  if (!isRecord(options)) {
    throw new BrokerOptionsError("Option 'metrics.reporter.options' must be an object", {
      option: "metrics.reporter.options",
    });
  }
  return new Reporter(options);
}
