import assert from "node:assert/strict";
import { epochMs } from "../../src/_util/clock.ts";

Deno.test("epochMs: a performance.now() reading as the Date.now() of that moment", async () => {
  for (let i = 0; i < 50; i++) {
    const before = Date.now();
    const ms = epochMs(performance.now());
    const after = Date.now();
    assert.ok(Number.isInteger(ms));
    assert.ok(ms >= before - 1 && ms <= after + 1, `${before} <= ${ms} <= ${after}`);
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
  }
});
