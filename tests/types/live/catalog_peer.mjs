// A Moleculer 0.15 node whose actions and events declare fastest-validator params of every kind
// `denolecular types` turns into TypeScript. argv[2]: the transporter URL. Prints "ready" on
// stdout once started; stops when stdin closes.
import { createRequire } from "node:module";
import process from "node:process";

const require = createRequire(import.meta.url);
const { ServiceBroker } = require("moleculer-015");

const broker = new ServiceBroker({
  nodeID: "node-catalog",
  transporter: process.argv[2],
  logger: false,
});

broker.createService({
  name: "catalog",
  version: 2,
  actions: {
    find: {
      params: {
        query: "string",
        limit: { type: "number", optional: true },
        page: { type: "number", default: 1 },
        inStock: "boolean|optional",
        sort: { type: "enum", values: ["price", "name"] },
        tags: { type: "array", items: "string" },
        filter: {
          type: "object",
          props: { min: "number", max: { type: "number", optional: true } },
        },
        $$strict: true,
      },
      handler: (ctx) => [{ query: ctx.params.query }],
    },
    count: () => 3,
  },
  events: {
    "catalog.updated": {
      params: {
        id: "number",
        fields: { type: "array", items: "string", optional: true },
      },
      handler() {},
    },
    "catalog.*"() {},
  },
});

await broker.start();
process.stdout.write("ready\n");
process.stdin.resume();
process.stdin.on("end", () => broker.stop().then(() => process.exit(0)));
