/**
 * Micro-benchmarks of `matchEventName`: exact names and Moleculer wildcards (`*`, `**`, `?`).
 * Run: `deno bench -A bench/event_match_bench.ts`.
 *
 * @module
 */

import { matchEventName } from "../mod.ts";

const cases: Array<[string, string, string]> = [
  ["exact, equal", "user.created", "user.created"],
  ["exact, different", "user.created", "user.removed"],
  ["`*`, matching", "user.created", "user.*"],
  ["`*`, not matching (extra level)", "user.created.v2", "user.*"],
  ["`**`, matching", "user.created.v2", "user.**"],
  ["`**` alone", "anything.at.all", "**"],
  ["`?`, matching", "user.created", "user.creat?d"],
  ["`*` mid-name, matching", "orders.eu.created", "orders.*.created"],
];

for (const [label, name, pattern] of cases) {
  Deno.bench({
    name: label,
    group: "matchEventName",
    baseline: label === "exact, equal",
    fn: () => {
      matchEventName(name, pattern);
    },
  });
}
