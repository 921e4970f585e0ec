import { strict as assert } from "node:assert";
import { signalExitCode } from "../../src/runtime/signals.ts";

Deno.test("signalExitCode() is 128 + the signal number", () => {
  assert.equal(signalExitCode("SIGINT"), 130);
  assert.equal(signalExitCode("SIGTERM"), 143);
  assert.equal(signalExitCode("SIGUSR1"), 1);
});
