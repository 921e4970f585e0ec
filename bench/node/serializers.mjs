// Node side of bench/serializers.ts: Moleculer 0.15's own serializers on the shared packets.
// Prints one JSON line: { node, moleculer, results: { [serializer]: { [type]: ns } } }.

import { createRequire } from "node:module";
import { measure, PACKETS, SERIALIZERS } from "../_shared/serializer_packets.mjs";

const require = createRequire(import.meta.url);
const { Serializers } = require("../../tests/node_modules/moleculer-015");
const { version } = require("../../tests/node_modules/moleculer-015/package.json");
const ms = Number(process.argv[2] ?? 600);

const results = {};
for (const name of SERIALIZERS) {
  const s = new Serializers[name]();
  s.init({
    getLogger: () => console,
    fatal: (msg) => {
      throw new Error(msg);
    },
  });
  results[name] = {};
  for (const [type, payload] of Object.entries(PACKETS)) {
    results[name][type] = measure(s, payload, type, ms);
  }
}
process.stdout.write(JSON.stringify({ node: process.version, moleculer: version, results }) + "\n");
