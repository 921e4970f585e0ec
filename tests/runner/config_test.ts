import { strict as assert } from "node:assert";
import {
  configRows,
  findConfigFile,
  loadConfigFile,
  maskSecrets,
  mergeOptions,
  showValue,
} from "../../src/runner/config.ts";
import { StartError, UsageError } from "../../src/runner/errors.ts";
import { MemoryTransporter } from "../../mod.ts";

const defaults = () => ({
  nodeID: "node-app",
  namespace: "",
  transporter: null,
  requestTimeout: 0,
  registry: { preferLocal: true, stopDelay: 100 },
  metadata: {},
  middlewares: [],
});

Deno.test("mergeOptions(): flag > env > config > default, deep for plain objects", () => {
  const merged = mergeOptions({
    defaults: defaults(),
    config: {
      nodeID: "config-node",
      namespace: "config-ns",
      requestTimeout: 3000,
      registry: { stopDelay: 5 },
      metadata: { region: "eu" },
    },
    configName: "denolecular.config.ts",
    env: {
      NAMESPACE: "env-ns",
      NODEID: "env-node",
      REGISTRY_PREFERLOCAL: "false",
    },
    flags: [{ path: ["nodeID"], value: "flag-node", flag: "--broker-id" }],
  });
  assert.deepEqual(merged.options, {
    nodeID: "flag-node",
    namespace: "env-ns",
    transporter: null,
    requestTimeout: 3000,
    registry: { preferLocal: false, stopDelay: 5 },
    metadata: { region: "eu" },
    middlewares: [],
  });
  const from = (k: string) => merged.sources.get(k);
  assert.deepEqual(from("nodeID"), { origin: "flag", detail: "--broker-id" });
  assert.deepEqual(from("namespace"), { origin: "env", detail: "NAMESPACE" });
  assert.deepEqual(from("requestTimeout"), {
    origin: "config",
    detail: "denolecular.config.ts",
  });
  assert.deepEqual(from("registry.preferLocal"), {
    origin: "env",
    detail: "REGISTRY_PREFERLOCAL",
  });
  assert.deepEqual(from("registry.stopDelay"), {
    origin: "config",
    detail: "denolecular.config.ts",
  });
  assert.deepEqual(from("metadata.region"), {
    origin: "config",
    detail: "denolecular.config.ts",
  });
  assert.equal(from("metadata"), undefined);
  assert.deepEqual(from("transporter"), { origin: "default", detail: "" });
});

Deno.test("mergeOptions(): instances and arrays replace whole; an env string replaces an object", () => {
  const transporter = new MemoryTransporter("g");
  const mw = { name: "mw" };
  const merged = mergeOptions({
    defaults: defaults(),
    config: { transporter, middlewares: [mw] },
    env: {},
    flags: [],
  });
  assert.equal(merged.options.transporter, transporter);
  assert.deepEqual(merged.options.middlewares, [mw]);

  const replaced = mergeOptions({
    defaults: defaults(),
    config: { transporter: { type: "NATS", options: { url: "nats://a" } } },
    env: { TRANSPORTER: "nats://b:4222" },
    flags: [],
  });
  assert.equal(replaced.options.transporter, "nats://b:4222");
  assert.equal(replaced.sources.get("transporter.type"), undefined);
  assert.deepEqual(replaced.sources.get("transporter"), {
    origin: "env",
    detail: "TRANSPORTER",
  });
});

Deno.test("maskSecrets() hides passwords and tokens in URLs", () => {
  assert.equal(
    maskSecrets("nats://user:secret@host:4222"),
    "nats://user:***@host:4222",
  );
  assert.equal(maskSecrets("nats://s3cr3t-token@host"), "nats://***@host");
  assert.equal(
    maskSecrets("nats://a:b@h1:4222,tls://c:d@h2:4222"),
    "nats://a:***@h1:4222,tls://c:***@h2:4222",
  );
  assert.equal(maskSecrets("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
  assert.equal(maskSecrets("mail me@host"), "mail me@host");
});

Deno.test("showValue() prints data as JSON, secrets masked, instances by class", () => {
  assert.equal(showValue("nats://u:p@h"), '"nats://u:***@h"');
  assert.equal(
    showValue({ url: "nats://u:p@h", pass: "p" }),
    '{"url":"nats://u:***@h","pass":"p"}',
  );
  assert.equal(showValue("p", "pass"), '"***"');
  assert.equal(showValue("t", "token"), '"***"');
  assert.equal(
    showValue(new MemoryTransporter("g")),
    "[MemoryTransporter Memory]",
  );
  assert.equal(showValue(function hook() {}), "[Function hook]");
  assert.equal(showValue([{ name: "a" }]), '[{"name":"a"}]');
  assert.equal(showValue(undefined), "undefined");
});

Deno.test("configRows() masks nested secret keys and shows each leaf's source", () => {
  const merged = mergeOptions({
    defaults: defaults(),
    config: {
      transporter: {
        type: "NATS",
        options: { url: "nats://h", user: "u", pass: "p" },
      },
    },
    configName: "c.json",
    env: {},
    flags: [],
  });
  const rows = Object.fromEntries(
    configRows(merged).map((r) => [r.key, [r.value, r.from]]),
  );
  assert.deepEqual(rows["transporter.options.pass"], [
    '"***"',
    "config c.json",
  ]);
  assert.deepEqual(rows["transporter.options.user"], ['"u"', "config c.json"]);
  assert.deepEqual(rows["metadata"], ["{}", "default"]);
});

Deno.test("findConfigFile() and loadConfigFile(): auto-detect, default export, function export", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await findConfigFile(dir), undefined);
    await assert.rejects(findConfigFile(dir, "nope.ts"), UsageError);
    await Deno.writeTextFile(
      `${dir}/denolecular.config.json`,
      '{"namespace":"json"}',
    );
    await Deno.writeTextFile(
      `${dir}/denolecular.config.ts`,
      "export default async function (this: { cwd: string }, ctx: { env: Record<string, string> }) {\n" +
        "  return { namespace: ctx.env.NS + '-' + (this.cwd.length > 0) };\n}\n",
    );
    const found = await findConfigFile(dir);
    assert.equal(found, `${dir}/denolecular.config.ts`);
    const ctx = { cwd: dir, paths: [], env: { NS: "fn" } };
    assert.deepEqual(await loadConfigFile(found!, ctx), {
      namespace: "fn-true",
    });
    assert.deepEqual(
      await loadConfigFile(`${dir}/denolecular.config.json`, ctx),
      {
        namespace: "json",
      },
    );

    await Deno.writeTextFile(
      `${dir}/named.ts`,
      "export const namespace = 'x';",
    );
    await assert.rejects(
      loadConfigFile(`${dir}/named.ts`, ctx),
      /has no default export/,
    );
    await Deno.writeTextFile(`${dir}/num.mjs`, "export default 42;");
    await assert.rejects(loadConfigFile(`${dir}/num.mjs`, ctx), UsageError);
    await Deno.writeTextFile(`${dir}/bad.json`, "{ nope");
    await assert.rejects(loadConfigFile(`${dir}/bad.json`, ctx), (e) => {
      assert.ok(e instanceof StartError);
      assert.match(e.message, /^cannot load config file bad\.json: /);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
