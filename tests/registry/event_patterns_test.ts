/**
 * The index of event subscriptions: a lookup returns what matching the event name against every
 * subscription would, in the same order, as subscriptions come and go.
 */

import assert from "node:assert/strict";
import { EventPatterns } from "../../src/registry/event_patterns.ts";
import { matchEventName } from "../../src/core/event_match.ts";

/** What a match against every subscription, in subscription order, returns. */
function scan(names: string[], eventName: string): string[] {
  return names.filter((p) => matchEventName(eventName, p));
}

Deno.test("EventPatterns: the same names, in the same order, as matching every subscription", () => {
  const names = ["user.*", "order.created", "user.created", "**", "user.?reated", "users.created"];
  const patterns = new EventPatterns();
  for (const n of names) patterns.add(n);
  for (const e of ["user.created", "order.created", "users.created", "user.x", "nothing"]) {
    assert.deepEqual(patterns.matching(e), scan(names, e), e);
  }
});

Deno.test("EventPatterns: a name deleted and subscribed again counts as subscribed last", () => {
  const patterns = new EventPatterns();
  for (const n of ["a.b", "a.*", "**"]) patterns.add(n);
  patterns.delete("a.b");
  assert.deepEqual(patterns.matching("a.b"), ["a.*", "**"]);
  patterns.add("a.b");
  patterns.add("a.*"); // already there: keeps its place
  assert.deepEqual(patterns.matching("a.b"), ["a.*", "**", "a.b"]);
  patterns.delete("**");
  assert.deepEqual(patterns.matching("a.c"), ["a.*"]);
});
