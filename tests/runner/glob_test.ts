import { strict as assert } from "node:assert";
import { globBase, globToRegExp, isGlob } from "../../src/runner/glob.ts";

Deno.test("globToRegExp(): *, **, ?, {a,b} and [abc]", () => {
  const m = (glob: string, path: string) => globToRegExp(glob).test(path);
  assert.ok(m("*.service.ts", "greeter.service.ts"));
  assert.ok(!m("*.service.ts", "a/greeter.service.ts"));
  assert.ok(m("**/*.service.ts", "greeter.service.ts"));
  assert.ok(m("**/*.service.ts", "a/b/greeter.service.ts"));
  assert.ok(m("src/**/x.ts", "src/x.ts"));
  assert.ok(m("src/**/x.ts", "src/a/b/x.ts"));
  assert.ok(!m("src/**/x.ts", "lib/x.ts"));
  assert.ok(m("*.{ts,mjs}", "a.mjs"));
  assert.ok(!m("*.{ts,mjs}", "a.js"));
  assert.ok(m("v?.ts", "v2.ts"));
  assert.ok(m("[ab].ts", "a.ts"));
  assert.ok(!m("[!ab].ts", "a.ts"));
  assert.ok(m("a.b+c(d).ts", "a.b+c(d).ts"));
  assert.ok(!m("a.ts", "axts"));
});

Deno.test("isGlob() and globBase()", () => {
  assert.ok(isGlob("src/**/*.ts"));
  assert.ok(!isGlob("src/services"));
  assert.equal(globBase("src/**/*.ts"), "src");
  assert.equal(globBase("src/a/*.ts"), "src/a");
  assert.equal(globBase("*.ts"), ".");
  assert.equal(globBase("/abs/dir/*.ts"), "/abs/dir");
  assert.equal(globBase("/*.ts"), "/");
});
