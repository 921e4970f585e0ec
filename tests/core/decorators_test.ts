import assert from "node:assert/strict";
import { action, type Context, event, method, Service } from "../../mod.ts";
import { decoratedMembers } from "../../src/core/decorators.ts";
import { scoped } from "../_helpers/core.ts";

Deno.test("decorators record kind, key and options in declaration order", () => {
  class S extends Service {
    constructor() {
      super("s");
    }
    @action({
      params: { a: "number" },
      visibility: "public",
      timeout: 5,
      rest: "GET /",
    })
    one(): void {}
    @event({ name: "x.*", group: "g", params: { id: "number" } })
    two(): void {}
    @method
    three(): void {}
    @action
    four(): void {}
    @event
    five(): void {}
  }
  const members = decoratedMembers(new S());
  assert.deepEqual(members, [
    {
      kind: "action",
      key: "one",
      options: {
        params: { a: "number" },
        visibility: "public",
        timeout: 5,
        rest: "GET /",
      },
    },
    {
      kind: "event",
      key: "two",
      options: { name: "x.*", group: "g", params: { id: "number" } },
    },
    { kind: "method", key: "three", options: {} },
    { kind: "action", key: "four", options: {} },
    { kind: "event", key: "five", options: {} },
  ]);
});

Deno.test("decorators return nothing: the method stays the same function", () => {
  const original = function hello() {
    return 1;
  };
  class S extends Service {
    constructor() {
      super("s");
    }
    @action
    hello(): number {
      return original();
    }
  }
  const s = new S();
  assert.equal(typeof s.hello, "function");
  assert.equal(s.hello(), 1);
  assert.equal(S.prototype.hello, s.hello);
});

Deno.test("each instance gets its own record list", () => {
  class S extends Service {
    constructor(name: string) {
      super(name);
    }
    @action
    a(): void {}
  }
  const x = new S("x");
  const y = new S("y");
  assert.notEqual(decoratedMembers(x), decoratedMembers(y));
  assert.equal(decoratedMembers(x).length, 1);
  assert.equal(decoratedMembers(y).length, 1);
  assert.deepEqual(decoratedMembers({}), []);
});

Deno.test("decorated members of a base class are inherited, base first", async () => {
  class Base extends Service {
    @action
    ping(): string {
      return "pong";
    }
    @event({ name: "base.evt" })
    onBase(): void {}
  }
  class Child extends Base {
    constructor() {
      super("child");
    }
    @action
    own(): string {
      return "own";
    }
  }
  const child = new Child();
  assert.deepEqual(decoratedMembers(child).map((m) => m.key), [
    "ping",
    "onBase",
    "own",
  ]);
  await using broker = scoped();
  await broker.register(child);
  await broker.start();
  assert.equal(await broker.call("child.ping"), "pong");
  assert.equal(await broker.call("child.own"), "own");
});

Deno.test("a subclass that re-decorates an override replaces the base action", async () => {
  class Base extends Service {
    @action({ params: ["a"] })
    hello(): string {
      return "base";
    }
  }
  class Sub extends Base {
    constructor() {
      super("sub");
    }
    @action({ params: ["b"] })
    override hello(): string {
      return "sub";
    }
  }
  const sub = new Sub();
  assert.deepEqual(decoratedMembers(sub), [
    { kind: "action", key: "hello", options: { params: ["b"] } },
  ]);
  await using broker = scoped();
  await broker.register(sub);
  await broker.start();
  assert.equal(await broker.call("sub.hello", { b: 1 }), "sub");
  await assert.rejects(broker.call("sub.hello", { a: 1 }), /validation/);
});

Deno.test("an override without a decorator keeps the base's action, runs the override", async () => {
  class Base extends Service {
    @action
    hello(): string {
      return "base";
    }
  }
  class Sub extends Base {
    constructor() {
      super("sub");
    }
    override hello(): string {
      return "override";
    }
  }
  await using broker = scoped();
  await broker.register(new Sub());
  await broker.start();
  assert.equal(await broker.call("sub.hello"), "override");
});

Deno.test("@action and @event may decorate the same method", async () => {
  const seen: string[] = [];
  class S extends Service {
    constructor() {
      super("both");
    }
    @action({ name: "handle" })
    @event({ name: "thing.happened" })
    handle(ctx: Context): string {
      seen.push(ctx.eventName ?? `action:${ctx.action?.name}`);
      return "done";
    }
  }
  await using broker = scoped();
  await broker.register(new S());
  await broker.start();
  assert.equal(await broker.call("both.handle"), "done");
  await broker.emit("thing.happened");
  assert.deepEqual(seen, ["action:both.handle", "thing.happened"]);
});

Deno.test("handlers run with `this` = the service instance", async () => {
  class S extends Service {
    readonly secret = 42;
    constructor() {
      super("self");
    }
    @action
    read(): number {
      return this.secret + this.helper();
    }
    @method
    helper(): number {
      return 1;
    }
  }
  await using broker = scoped();
  await broker.register(new S());
  await broker.start();
  assert.equal(await broker.call("self.read"), 43);
});

Deno.test("@method names are usable in hooks", async () => {
  const order: string[] = [];
  class S extends Service {
    constructor() {
      super({ name: "hooked", hooks: { before: { "*": "check" } } });
    }
    @method
    check(ctx: Context): void {
      order.push(`check:${ctx.action?.rawName}`);
    }
    @action
    go(): void {
      order.push("go");
    }
  }
  await using broker = scoped();
  await broker.register(new S());
  await broker.start();
  await broker.call("hooked.go");
  assert.deepEqual(order, ["check:go", "go"]);
});

Deno.test("decorators refuse static and private members with a TypeError", () => {
  assert.throws(
    () => {
      class _S extends Service {
        @action
        static hello(): void {}
      }
    },
    (err: unknown) => err instanceof TypeError && /'hello'/.test(err.message),
  );
  assert.throws(
    () => {
      class _S extends Service {
        @event
        #hidden(): void {}
      }
    },
    TypeError,
  );
  // deno-lint-ignore no-explicit-any
  const loose = method as any;
  assert.throws(
    () => {
      class _S extends Service {
        @loose
        field = 1;
      }
    },
    TypeError,
  );
});
