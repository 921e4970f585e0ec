import assert from "node:assert/strict";
import { matchEventName } from "../../mod.ts";

/** [event name, pattern, expected] — Moleculer's wildcard semantics. */
const CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  // exact names
  ["user.created", "user.created", true],
  ["user.created", "user.updated", false],
  ["user.created", "user", false],
  ["user", "user.created", false],
  ["", "", true],
  // `*`: any characters except a dot
  ["user.created", "user.*", true],
  ["user.", "user.*", true],
  ["user.created.v2", "user.*", false],
  ["user", "user.*", false],
  ["user.created", "*.created", true],
  ["a.b.created", "*.created", false],
  ["user.created", "*", false],
  ["created", "*", true],
  ["", "*", true],
  ["user.created", "us*.cr*", true],
  ["userX.created", "user*", false],
  ["user.ab", "user*", false],
  ["user.created", "*.*", true],
  ["a.b.c", "*.*", false],
  ["a.b.c", "*.*.*", true],
  // `**`: anything, dots included
  ["user.created", "**", true],
  ["", "**", true],
  ["a.b.c.d", "**", true],
  ["user.created.v2", "user.**", true],
  ["user.created", "user.**", true],
  ["user", "user.**", false],
  ["userland.x", "user**", true],
  ["a.x.y.b", "a.**.b", true],
  ["a.b", "a.**.b", false],
  ["x.a.b", "a.**.b", false],
  ["a.b.c", "**.c", true],
  ["a.b.c", "**.b", false],
  // `?`: exactly one character
  ["user.created", "user.c?eated", true],
  ["user.cxeated", "user.c?eated", true],
  ["user.ceated", "user.c?eated", false],
  ["user.crreated", "user.c?eated", false],
  ["v1.posts", "v?.posts", true],
  ["v12.posts", "v?.posts", false],
  ["a.b", "a?b", true],
  ["user.c1.x", "user.c?.*", true],
  // `$` is literal, at the start and elsewhere
  ["$node.connected", "$node.connected", true],
  ["$node.connected", "$node.*", true],
  ["$node.a.b", "$node.**", true],
  ["node.connected", "$node.*", false],
  ["x$node.connected", "$node.*", false],
  ["$services.changed", "$services.change?", true],
  ["price$", "price$", true],
  ["price$.x", "price$.*", true],
  // regex metacharacters are literal
  ["userXcreated", "user.*", false],
  ["userXc1", "user.c?", false],
  ["a+b.x", "a+b.*", true],
  ["aab.x", "a+b.*", false],
  ["(a).x", "(a).*", true],
  ["a.x", "(a).*", false],
  ["[ab].x", "[ab].*", true],
  ["a.x", "[ab].*", false],
  ["a|b.x", "a|b.*", true],
  ["a.x", "a|b.*", false],
  ["a{2}.x", "a{2}.*", true],
  ["aa.x", "a{2}.*", false],
  ["a^b.x", "a^b.*", true],
  ["a\\b.x", "a\\b.*", true],
  ["ab.x", "a\\b.*", false],
];

Deno.test("matchEventName() follows Moleculer's wildcard rules", async (t) => {
  for (const [name, pattern, expected] of CASES) {
    await t.step(`${JSON.stringify(name)} ~ ${JSON.stringify(pattern)} → ${expected}`, () => {
      assert.equal(matchEventName(name, pattern), expected);
    });
  }
});

Deno.test("matchEventName() gives the same answer when a pattern is reused (cache)", () => {
  for (let i = 0; i < 3; i++) {
    assert.equal(matchEventName("order.paid", "order.*"), true);
    assert.equal(matchEventName("order.paid.late", "order.*"), false);
  }
});
