/** The warning limiter on a hand-driven clock: one per key per window, a budget, the count left out. */

import assert from "node:assert/strict";
import { WARN_BUDGET, WARN_WINDOW_MS, WarnLimiter } from "../../src/transit/warn_limiter.ts";

function limiter() {
  let now = 1_000_000;
  const lines: string[] = [];
  const l = new WarnLimiter((m) => lines.push(m), () => now);
  return { l, lines, advance: (ms: number) => void (now += ms) };
}

Deno.test("WarnLimiter: one warning per key per window, then the count of those left out", () => {
  const { l, lines, advance } = limiter();
  l.warn("a", "a1");
  l.warn("a", "a2");
  l.warn("a", "a3");
  l.warn("b", "b1");
  assert.deepEqual(lines, ["a1", "b1"]);
  advance(WARN_WINDOW_MS - 1);
  l.warn("a", "a4");
  assert.equal(lines.length, 2, "still muted");
  advance(1);
  l.warn("a", "a5");
  assert.deepEqual(lines.at(-1), "a5 (3 similar warning(s) left out in the last 10 s)");
  advance(WARN_WINDOW_MS);
  l.warn("a", "a6");
  assert.equal(lines.at(-1), "a6", "nothing left out since");
});

Deno.test("WarnLimiter: at most WARN_BUDGET warnings in all per window", () => {
  const { l, lines, advance } = limiter();
  for (let i = 0; i < WARN_BUDGET + 5; i++) l.warn(`key-${i}`, `m${i}`);
  assert.equal(lines.length, WARN_BUDGET);
  advance(WARN_WINDOW_MS);
  l.warn("fresh", "after the flood");
  assert.equal(lines.at(-1), "after the flood (5 similar warning(s) left out in the last 10 s)");
});
