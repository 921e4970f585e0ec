import { strict as assert } from "node:assert";
import { Service } from "../../mod.ts";
import { StartError, UsageError } from "../../src/runner/errors.ts";
import {
  importServices,
  isHelperModule,
  listModules,
  resolveSources,
  servicesFromModule,
} from "../../src/runner/loader.ts";

Deno.test("servicesFromModule(): classes, instances and schemas, default first, each once", () => {
  class Greeter extends Service {
    constructor() {
      super("greeter");
    }
  }
  const instance = new Service({ name: "echo", version: 2 });
  const schema = { name: "math", actions: { add: () => 1 } };
  const r = servicesFromModule({
    util: () => 1,
    Service, // the base class itself is not a service
    aMixin: { methods: { x() {} } }, // no name: a mixin, not a service
    config: { name: "not-a-service" }, // a name alone is not enough
    schema,
    instance,
    Greeter,
    default: Greeter,
  });
  assert.deepEqual(r.exports, ["default", "schema", "instance"]);
  assert.deepEqual(r.services.map((s) => s.fullName), [
    "greeter",
    "math",
    "v2.echo",
  ]);
  assert.ok(r.services[0] instanceof Greeter);
  assert.equal(r.services[2], instance);
  assert.deepEqual(r.rejected, []);
});

Deno.test("servicesFromModule(): a throwing constructor names the export; foreign copies are rejected", () => {
  class Nameless extends Service {
    constructor() {
      super("");
    }
  }
  assert.throws(
    () => servicesFromModule({ Nameless }),
    /^Error: export 'Nameless': .*name is missing/,
  );
  // A Service class from another copy of the library.
  class ForeignService {
    attach() {}
  }
  Object.defineProperty(ForeignService, "name", { value: "Service" });
  class Other extends ForeignService {}
  const r = servicesFromModule({ Other });
  assert.equal(r.services.length, 0);
  assert.equal(r.rejected[0]?.name, "Other");
  assert.match(r.rejected[0]!.reason, /another copy of Denolecular/);
});

Deno.test("resolveSources() + listModules(): directories, skip rules, mask, globs, files, names", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  const touch = async (name: string) => {
    await Deno.mkdir(`${dir}/${name.slice(0, name.lastIndexOf("/"))}`, {
      recursive: true,
    });
    await Deno.writeTextFile(`${dir}/${name}`, "");
  };
  try {
    for (
      const f of [
        "svc/a.service.ts",
        "svc/b.js",
        "svc/c.mjs",
        "svc/deep/d.service.ts",
        "svc/_private.ts",
        "svc/_dir/e.ts",
        "svc/.hidden/f.ts",
        "svc/node_modules/g/index.js",
        "svc/h_test.ts",
        "svc/i.test.ts",
        "svc/j.d.ts",
        "svc/k.json",
        "other/x.service.ts",
      ]
    ) await touch(f);
    const list = async (paths: string[], mask?: string) => {
      const sources = await resolveSources(paths, { cwd: dir, mask });
      const out: string[] = [];
      for (const s of sources) {
        out.push(...(await listModules(s)).map((p) => p.slice(dir.length + 1)));
      }
      return out;
    };
    assert.deepEqual(await list(["svc"]), [
      "svc/a.service.ts",
      "svc/b.js",
      "svc/c.mjs",
      "svc/deep/d.service.ts",
    ]);
    assert.deepEqual(await list(["svc"], "*.service.ts"), [
      "svc/a.service.ts",
      "svc/deep/d.service.ts",
    ]);
    assert.deepEqual(await list(["svc"], "deep/*.ts"), [
      "svc/deep/d.service.ts",
    ]);
    assert.deepEqual(await list(["svc/**/*.service.ts"]), [
      "svc/a.service.ts",
      "svc/deep/d.service.ts",
    ]);
    assert.deepEqual(await list(["*/x.service.ts"]), ["other/x.service.ts"]);
    assert.deepEqual(await list(["svc/h_test.ts", "other/x"]), [
      "svc/h_test.ts",
      "other/x.service.ts",
    ]);
    await assert.rejects(
      list(["missing"]),
      (e) => e instanceof UsageError && /path not found: missing/.test(e.message),
    );
    await assert.rejects(
      list(["nope/**/*.ts"]),
      /no such directory for the glob/,
    );

    // Search directories in order (a compiled binary looks in its embedded files first).
    const [found] = await resolveSources(["svc/b.js"], {
      cwd: "/",
      searchDirs: ["/nope", dir],
    });
    assert.equal(found?.root, `${dir}/svc/b.js`);

    const [source] = await resolveSources(["svc"], { cwd: dir });
    assert.ok(isHelperModule(source!, `${dir}/svc/_private.ts`));
    assert.ok(!isHelperModule(source!, `${dir}/svc/a.service.ts`));
    assert.ok(!isHelperModule(source!, `${dir}/svc/h_test.ts`));
    assert.ok(!isHelperModule(source!, `${dir}/other/x.service.ts`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("importServices(): a failing import is a StartError naming the file", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.writeTextFile(
      `${dir}/bad.ts`,
      "throw new TypeError('no config');",
    );
    await assert.rejects(
      importServices(`${dir}/bad.ts`, undefined, dir),
      (e) => {
        assert.ok(e instanceof StartError);
        assert.equal(e.message, "cannot load bad.ts: TypeError: no config");
        return true;
      },
    );
    await Deno.writeTextFile(
      `${dir}/ok.ts`,
      'export default { name: "v", actions: { v: () => 1 } };',
    );
    const a = await importServices(`${dir}/ok.ts`, 1, dir);
    const b = await importServices(`${dir}/ok.ts`, 2, dir);
    assert.notEqual(
      a.services[0]!.schema,
      b.services[0]!.schema,
      "a new module instance per version",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
