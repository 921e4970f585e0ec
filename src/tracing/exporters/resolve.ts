/**
 * The exporters by name: `"Console"`, `"Event"`, `"Zipkin"`, `"OpenTelemetry"` (any case), as a
 * name, as `{ type, options }`, or an instance. The OpenTelemetry exporter loads its API by
 * `import()` when it starts.
 *
 * @module
 */

import { BrokerOptionsError } from "../../errors.ts";
import { isRecord } from "../../_util/values.ts";
import type { ExporterOption } from "../options.ts";
import { ConsoleTraceExporter } from "./console.ts";
import { EventTraceExporter } from "./event.ts";
import type { TraceExporter } from "./exporter.ts";
import { OpenTelemetryTraceExporter } from "./opentelemetry.ts";
import { ZipkinTraceExporter } from "./zipkin.ts";

// deno-lint-ignore no-explicit-any
const EXPORTERS: Record<string, new (opts?: any) => TraceExporter> = {
  console: ConsoleTraceExporter,
  event: EventTraceExporter,
  zipkin: ZipkinTraceExporter,
  opentelemetry: OpenTelemetryTraceExporter,
};

/** The exporter names this module knows. */
export const EXPORTER_NAMES: readonly string[] = ["Console", "Event", "Zipkin", "OpenTelemetry"];

/**
 * The exporter of one `tracing.exporter` entry.
 *
 * @param option The entry.
 * @param index Its place in the list, for the error message.
 * @returns The exporter.
 * @throws {BrokerOptionsError} for an unknown name.
 */
export function resolveExporter(option: ExporterOption, index = 0): TraceExporter {
  if (typeof option !== "string" && !("type" in option && typeof option.type === "string")) {
    return option as TraceExporter;
  }
  const type = typeof option === "string" ? option : option.type;
  const options = typeof option === "string" ? {} : option.options ?? {};
  const Exporter = EXPORTERS[type.toLowerCase()];
  if (!Exporter) {
    throw new BrokerOptionsError(
      `Unknown trace exporter '${type}' in 'tracing.exporter'${
        index > 0 ? `[${index}]` : ""
      }. Known exporters: ${EXPORTER_NAMES.join(", ")}`,
      { option: "tracing.exporter", value: type },
    );
  }
  if (!isRecord(options)) {
    throw new BrokerOptionsError(`Option 'tracing.exporter.options' must be an object`, {
      option: "tracing.exporter.options",
    });
  }
  return new Exporter(options);
}
