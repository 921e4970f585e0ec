/** resolveTransporter(): instances, URLs, names and { type, options }. */

import assert from "node:assert/strict";
import { BrokerOptionsError } from "../../src/errors.ts";
import { MemoryTransporter } from "../../src/transporters/memory.ts";
import { NatsTransporter } from "../../src/transporters/nats/nats.ts";
import { resolveTransporter } from "../../src/transporters/resolve.ts";

Deno.test("resolveTransporter() passes an instance through", () => {
  const t = new MemoryTransporter("x");
  assert.equal(resolveTransporter(t), t);
});

Deno.test("resolveTransporter() understands memory URLs and names", () => {
  const g = resolveTransporter("memory://group-a");
  assert.ok(g instanceof MemoryTransporter);
  assert.equal(g.group, "group-a");
  for (const name of ["Memory", "memory", "Fake", "memory://"]) {
    const t = resolveTransporter(name);
    assert.ok(t instanceof MemoryTransporter, name);
    assert.equal(t.group, "default");
  }
  const o = resolveTransporter({ type: "Memory", options: { group: "g2" } });
  assert.ok(o instanceof MemoryTransporter);
  assert.equal(o.group, "g2");
});

Deno.test("resolveTransporter() understands NATS URLs, names and options", () => {
  const url = resolveTransporter("nats://u:p@10.0.0.1:4222,nats://10.0.0.2:4222");
  assert.ok(url instanceof NatsTransporter);
  assert.equal(url.url, "nats://10.0.0.1:4222,nats://10.0.0.2:4222");

  const byName = resolveTransporter("NATS");
  assert.ok(byName instanceof NatsTransporter);
  assert.equal(byName.url, "nats://127.0.0.1:4222");

  const typed = resolveTransporter({ type: "NATS", options: { servers: ["h1:1", "h2:2"] } });
  assert.ok(typed instanceof NatsTransporter);
  assert.equal(typed.url, "nats://h1:1,nats://h2:2");

  const moleculerStyle = resolveTransporter({ type: "nats", options: { url: "nats://t@h:9" } });
  assert.ok(moleculerStyle instanceof NatsTransporter);
  assert.equal(moleculerStyle.url, "nats://h:9");

  const tls = resolveTransporter("tls://secure:4443");
  assert.ok(tls instanceof NatsTransporter);
});

Deno.test("resolveTransporter() rejects unknown transporters, listing the supported ones", () => {
  for (const bad of ["Redis", "redis://localhost:6379", "amqp://u:secret@h"]) {
    assert.throws(() => resolveTransporter(bad), (e: unknown) => {
      assert.ok(e instanceof BrokerOptionsError);
      assert.match(e.message, /Unknown transporter/);
      assert.match(e.message, /"Memory"/);
      assert.match(e.message, /"NATS"/);
      assert.ok(!e.message.includes("secret"));
      return true;
    });
  }
  assert.throws(() => resolveTransporter({ type: "Kafka" }), /Unknown transporter "Kafka"/);
  assert.throws(
    () => resolveTransporter({ type: "NATS", options: 42 }),
    BrokerOptionsError,
  );
  assert.throws(
    () => resolveTransporter({ type: "Memory", options: { group: 1 } }),
    BrokerOptionsError,
  );
  assert.throws(() => resolveTransporter(42 as unknown as string), BrokerOptionsError);
  assert.throws(() => resolveTransporter("nats://bad host"), BrokerOptionsError);
});
