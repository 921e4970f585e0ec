import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { defaultCacheKey, MemoryCacher } from "../../mod.ts";
import { nodeBinary, skipWithoutPeers } from "../_helpers/moleculer_peer.ts";
import { CASES } from "./_key_cases.mjs";

Deno.test("cache keys: all params, one key, several keys, #meta and @headers", () => {
  const params = {
    id: 5,
    name: "John",
    tags: ["a", "b"],
    address: { city: "Rome" },
  };
  assert.equal(
    defaultCacheKey("users.get", params, {}),
    'users.get:id|5|name|"John"|tags|["a"|"b"]|address|city|"Rome"',
  );
  assert.equal(defaultCacheKey("users.get", params, {}, ["id"]), "users.get:5");
  assert.equal(
    defaultCacheKey("users.get", params, {}, ["name"]),
    'users.get:"John"',
  );
  assert.equal(
    defaultCacheKey("users.get", params, { user: { id: 9 } }, [
      "id",
      "#user.id",
      "@tenant",
    ], {
      tenant: "acme",
    }),
    'users.get:5|9|"acme"',
  );
  assert.equal(
    defaultCacheKey("users.get", params, {}, ["address.city"]),
    'users.get:"Rome"',
  );
  assert.equal(
    defaultCacheKey("users.get", params, {}, ["missing"]),
    "users.get:undefined",
  );
  // Nothing to read, or no key listed: the action name alone (Moleculer's rule).
  assert.equal(defaultCacheKey("users.get", undefined), "users.get");
  assert.equal(defaultCacheKey("users.get", params, {}, []), "users.get");
});

Deno.test("cache keys: past maxParamsLength the params part ends in its SHA-256", () => {
  const params = { text: "x".repeat(200) };
  const part = `text|"${"x".repeat(200)}"`;
  const hash = createHash("sha256").update(part).digest("base64");
  const key = defaultCacheKey("a.b", params, {}, undefined, undefined, 60);
  assert.equal(key, `a.b:${part.slice(0, 16)}${hash}`);
  assert.equal(key.length, "a.b:".length + 60);
  assert.equal(
    defaultCacheKey("a.b", params, {}, undefined, undefined, 44),
    `a.b:${hash}`,
  );
  // Below 44 (a hash's length) the option is ignored, as in Moleculer.
  assert.equal(
    defaultCacheKey("a.b", params, {}, undefined, undefined, 43),
    `a.b:${part}`,
  );
  const cacher = new MemoryCacher({ maxParamsLength: 60 });
  assert.equal(cacher.getCacheKey("a.b", params, {}), key);
});

Deno.test("cache keys: a keygen option replaces the default one", () => {
  const seen: unknown[] = [];
  const cacher = new MemoryCacher({
    keygen: (name, params, meta, keys, headers) => {
      seen.push([name, params, meta, keys, headers]);
      return `${name}/${(params as { id: number }).id}/${meta?.tenant}`;
    },
  });
  assert.equal(
    cacher.getCacheKey("users.get", { id: 5 }, { tenant: "t" }, ["id"], {
      h: 1,
    }),
    "users.get/5/t",
  );
  assert.deepEqual(seen, [["users.get", { id: 5 }, { tenant: "t" }, ["id"], {
    h: 1,
  }]]);
});

const MOLECULER_015 = new URL("../node_modules/moleculer-015", import.meta.url);

// The same table in Moleculer's own Memory cacher: keys must be identical, byte for byte.
const NODE_SCRIPT = `
const { Cachers } = require(process.env.MOLECULER_DIR);
import(process.env.CASES_URL).then(({ CASES }) => {
  const keys = CASES.map((c) => {
    const cacher = new Cachers.Memory({ maxParamsLength: c.maxParamsLength ?? null });
    const opts = c.keys ? { keys: c.keys } : {};
    const key = cacher.getCacheKey({ name: c.action }, opts, {
      params: c.params,
      meta: c.meta,
      headers: c.headers,
    });
    cacher.close();
    return key;
  });
  process.stdout.write(JSON.stringify(keys));
}, (err) => {
  console.error(err);
  process.exit(1);
});
`;

Deno.test({
  name: "cache keys are identical to Moleculer 0.15's getCacheKey on every case",
  ignore: skipWithoutPeers(),
  async fn() {
    const out = await new Deno.Command(nodeBinary(), {
      args: ["-e", NODE_SCRIPT],
      env: {
        MOLECULER_DIR: fileURLToPath(MOLECULER_015),
        CASES_URL: new URL("./_key_cases.mjs", import.meta.url).href,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `node failed: ${stderr}`);
    const theirs = JSON.parse(new TextDecoder().decode(out.stdout)) as string[];
    assert.equal(theirs.length, CASES.length);
    for (const [i, c] of CASES.entries()) {
      const meta = c.meta as Record<string, unknown> | undefined;
      const headers = c.headers as Record<string, unknown> | undefined;
      const ours = defaultCacheKey(
        c.action,
        c.params,
        meta,
        c.keys,
        headers,
        c.maxParamsLength,
      );
      assert.equal(ours, theirs[i], `case "${c.name}"`);
      const cacher = new MemoryCacher({
        maxParamsLength: c.maxParamsLength ?? null,
      });
      assert.equal(
        cacher.getCacheKey(c.action, c.params, meta, c.keys, headers),
        theirs[i],
      );
    }
    // The table covers the shortened forms, not only keys under the limit.
    assert.ok(
      theirs.some((k) => /[A-Za-z0-9+/]{43}=$/.test(k)),
      "some key ends in a hash",
    );
  },
});
