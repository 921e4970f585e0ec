// Logs a fixed set of calls through a real Moleculer 0.15 broker configured by the JSON
// `logger`/`logLevel` options given as argv[2], and prints what its Console logger wrote, one
// JSON array of lines. The logger-config compat test compares Denolecular's lines with these.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { ServiceBroker } = require("../node_modules/moleculer-015");

const options = JSON.parse(process.argv[2]);
const lines = [];
for (const method of ["log", "info", "warn", "error", "debug", "trace"]) {
  console[method] = (...parts) => lines.push(parts.join(" "));
}
const broker = new ServiceBroker({ nodeID: "n1", ...options });
lines.length = 0; // drop the broker's own start-up lines
const svc = broker.getLogger("my-svc");
const other = broker.getLogger("other");
svc.info("User", { id: 5 }, "created", 42);
svc.debug("debug of my-svc");
other.debug("debug of other");
other.warn("Careful", [1, 2]);
process.stdout.write(JSON.stringify(lines));
