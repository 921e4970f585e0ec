// Merges service schemas with Moleculer 0.15's own `Service.applyMixins`, for the differential
// mixin tests. Reads `[schema, ...]` as JSON on stdin, where a function is written
// `{ "$fn": "tag" }`; writes the merged schemas back in the same notation.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Service = require("../node_modules/moleculer-015/src/service.js");

const revive = (value) => {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {
    if (typeof value.$fn === "string") return Object.assign(function () {}, { tag: value.$fn });
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
};
const dump = (value) => {
  if (typeof value === "function") return { $fn: value.tag ?? value.name };
  if (Array.isArray(value)) return value.map(dump);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, dump(v)]));
  }
  return value;
};

let input = "";
for await (const chunk of process.stdin) input += chunk;
const merger = Object.create(Service.prototype);
const out = JSON.parse(input).map((schema) => dump(merger.applyMixins(revive(schema))));
process.stdout.write(JSON.stringify(out));
