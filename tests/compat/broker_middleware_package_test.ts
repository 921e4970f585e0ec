/**
 * A middleware package written for Moleculer (a factory, plain JavaScript) runs unedited: the
 * same file on a Moleculer 0.15 broker in Node and on Denolecular gives the same hook calls in
 * the same order.
 */
import assert from "node:assert/strict";
import { ServiceBroker } from "../../mod.ts";
import AuditMiddleware, { mathService } from "./fixtures/audit_middleware.mjs";
import { inMoleculer } from "./_moleculer.ts";

const SCENARIO = `
  const log = [];
  const { default: AuditMiddleware, mathService } = await load("./fixtures/audit_middleware.mjs");
  const broker = new ServiceBroker({ logger: false, middlewares: [AuditMiddleware({ log })] });
  broker.createService(mathService);
  await broker.start();
  log.push("double = " + await broker.call("math.double", { a: 21 }));
  await broker.stop();
  return log;
`;

async function inDenolecular(): Promise<string[]> {
  const log: string[] = [];
  const broker = new ServiceBroker({
    logger: false,
    middlewares: [AuditMiddleware({ log })],
  });
  broker.createService(structuredCloneSchema());
  await broker.start();
  log.push("double = " + await broker.call("math.double", { a: 21 }));
  await broker.stop();
  return log;
}

/** A fresh copy of the fixture's schema (its functions kept), as a new Node process gets. */
function structuredCloneSchema() {
  return {
    ...mathService,
    actions: { double: { ...mathService.actions.double } },
    methods: { ...mathService.methods },
  };
}

Deno.test("a Moleculer middleware package (factory) gives Moleculer 0.15's hook calls, in order", async () => {
  const expected = await inMoleculer(SCENARIO) as string[];
  // Moleculer's documented behaviour, as its own broker shows it.
  assert.deepEqual(expected, [
    "created this=broker:true arg=broker:true",
    "serviceCreating math",
    "starting",
    "serviceStarting math",
    "serviceStarted math",
    "started",
    "broker.call math.double",
    "call math.double a=21",
    "method twice(21)",
    "result 42",
    "double = 42",
    "stopping",
    "serviceStopping math",
    "serviceStopped math",
    "stopped",
  ]);
  assert.deepEqual(await inDenolecular(), expected);
});
