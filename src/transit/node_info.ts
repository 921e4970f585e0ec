/**
 * The check of an INFO payload's shape, before the registry takes the node's services from it.
 *
 * @example
 * ```ts
 * import { nodeInfoProblem } from "./node_info.ts";
 *
 * nodeInfoProblem({ services: [] }); // undefined: usable
 * nodeInfoProblem({ services: {} }); // "'services' is not an array"
 * nodeInfoProblem({ services: [{ name: "users", actions: { get: 1 } }] });
 * // "services[0] action 'get' is not an object"
 * ```
 *
 * @module
 */

import { isRecord } from "../_util/values.ts";

function optional(value: unknown, check: (v: unknown) => boolean): boolean {
  return value === undefined || value === null || check(value);
}

const isString = (v: unknown): boolean => typeof v === "string";

function mapOfRecords(
  value: unknown,
  what: string,
  keys: string[],
): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return `${what} is not an object`;
  for (const [name, def] of Object.entries(value)) {
    if (!isRecord(def)) {
      return `${what} '${name.slice(0, 64)}' is not an object`;
    }
    for (const k of keys) {
      if (!optional(def[k], isString)) {
        return `${what} '${name.slice(0, 64)}': '${k}' is not a string`;
      }
    }
  }
  return undefined;
}

/**
 * Check the shape of an INFO payload before the registry uses it. A malformed INFO is dropped
 * whole (and logged by transit) rather than half applied: `services` that is not an array would
 * otherwise wipe the node's services.
 *
 * @param payload The INFO payload (untrusted).
 * @returns Why it is malformed, or undefined when it is usable.
 */
export function nodeInfoProblem(
  payload: Record<string, unknown>,
): string | undefined {
  const services = payload.services;
  if (!Array.isArray(services)) return "'services' is not an array";
  if (!optional(payload.instanceID, isString)) {
    return "'instanceID' is not a string";
  }
  if (!optional(payload.seq, (v) => typeof v === "number")) {
    return "'seq' is not a number";
  }
  if (!optional(payload.ipList, Array.isArray)) {
    return "'ipList' is not an array";
  }
  for (const k of ["client", "config", "metadata"]) {
    if (!optional(payload[k], isRecord)) return `'${k}' is not an object`;
  }
  for (let i = 0; i < services.length; i++) {
    const svc = services[i];
    if (!isRecord(svc)) return `services[${i}] is not an object`;
    if (typeof svc.name !== "string" || svc.name === "") {
      return `services[${i}] has no string 'name'`;
    }
    if (!optional(svc.fullName, isString)) {
      return `services[${i}].fullName is not a string`;
    }
    if (
      !optional(
        svc.version,
        (v) => typeof v === "string" || typeof v === "number",
      )
    ) {
      return `services[${i}].version is not a string or number`;
    }
    for (const k of ["settings", "metadata"]) {
      if (!optional(svc[k], isRecord)) {
        return `services[${i}].${k} is not an object`;
      }
    }
    const problem = mapOfRecords(svc.actions, `services[${i}] action`, ["name", "rawName"]) ??
      mapOfRecords(svc.events, `services[${i}] event`, ["name", "group"]);
    if (problem) return problem;
  }
  return undefined;
}
