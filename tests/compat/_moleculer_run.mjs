// Runs the compat services of `services/` on a real Moleculer 0.15 broker (local, silent) and
// prints the outcome of each step of argv[2] (`[["call", action, params] | ["emit", event,
// payload], ...]`) as JSON, with the settings the posts service announces. The compat tests run
// the same steps on Denolecular and compare.
import { createRequire } from "node:module";
import { PostsService } from "./services/db_mixin.mjs";
import { defineGreeter } from "./services/greeter_class.mjs";
import { outcome } from "./services/outcome.mjs";

const require = createRequire(import.meta.url);
const { ServiceBroker, Service } = require("../node_modules/moleculer-015");

const broker = new ServiceBroker({ nodeID: "compat", logger: false });
broker.createService(PostsService);
broker.createService(defineGreeter(Service));
await broker.start();
const results = [];
for (const [kind, name, params] of JSON.parse(process.argv[2])) {
  results.push(
    await outcome(() =>
      kind === "emit" ? broker.emit(name, params).then(() => "emitted") : broker.call(name, params)
    ),
  );
}
const posts = broker.registry.getServiceList({}).find((s) => s.name === "posts");
await broker.stop();
process.stdout.write(JSON.stringify({ results, settings: posts.settings }));
