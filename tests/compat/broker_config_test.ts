/**
 * A `moleculer.config.js`-style config object with the options of Moleculer's project template
 * runs unedited: the same file on Moleculer 0.15 in Node and on Denolecular behaves alike.
 */
import assert from "node:assert/strict";
import { type BrokerOptions, ServiceBroker, type ServiceSchema } from "../../mod.ts";
import config, { services } from "./fixtures/moleculer_config.mjs";
import { inMoleculer } from "./_moleculer.ts";

const SCENARIO = `
  const log = [];
  const { default: config, services } = await load("./fixtures/moleculer_config.mjs");
  const broker = new ServiceBroker(config(log));
  for (const s of services) broker.createService(s);
  await broker.start();
  log.push(JSON.stringify(await broker.call("api.whoami", { id: 5 })));
  log.push(await broker.call("api.broken"));
  await broker.stop();
  return log;
`;

Deno.test("a moleculer.config.js-style config runs unedited, as on Moleculer 0.15", async () => {
  const expected = await inMoleculer(SCENARIO) as string[];
  assert.deepEqual(expected, [
    "created cfg-node",
    "started cfg-node",
    JSON.stringify({
      user: { id: 5, name: "John" },
      sameRequest: true,
      uid: true,
    }),
    "errorHandler broken in api.broken",
    "handled",
    "stopped cfg-node",
  ]);

  const log: string[] = [];
  const broker = new ServiceBroker(config(log) as BrokerOptions);
  for (const s of services) broker.createService(s as ServiceSchema);
  await broker.start();
  log.push(JSON.stringify(await broker.call("api.whoami", { id: 5 })));
  log.push(await broker.call("api.broken") as string);
  await broker.stop();
  assert.deepEqual(log, expected);
});
