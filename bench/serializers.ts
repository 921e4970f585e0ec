/**
 * Serializers side by side: serialize + deserialize of a REQ, a RES and an EVENT (protocol 5)
 * per serializer, here and with Moleculer 0.15's own serializers in Node, in one run on one
 * machine. Prints a table of ns per packet and the ratio (Moleculer's time / ours: above 1 is
 * faster here), and writes it to `bench/.out/serializers.json`.
 *
 * Run: `deno task bench:serializers` (needs `cd tests && npm ci` for the Node side).
 *
 * @module
 */

import { resolveSerializer } from "../src/serializers/resolve.ts";
import { measure, PACKETS, SERIALIZERS } from "./_shared/serializer_packets.mjs";

const MS = Number(Deno.args[0] ?? 600);
const here = (p: string) => new URL(p, import.meta.url);

async function nodeSide(): Promise<
  { node: string; moleculer: string; results: Record<string, Record<string, number>> }
> {
  const out = await new Deno.Command("node", {
    args: [decodeURIComponent(here("./node/serializers.mjs").pathname), String(MS)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(
      `the Node side failed (run \`cd tests && npm ci\` first):\n${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const ours: Record<string, Record<string, number>> = {};
for (const name of SERIALIZERS) {
  const s = resolveSerializer(name);
  await s.init?.();
  ours[name] = {};
  for (const [type, payload] of Object.entries(PACKETS)) {
    ours[name][type] = measure(s, payload as Record<string, unknown>, type, MS);
  }
}
const theirs = await nodeSide();

const rows: Record<string, unknown>[] = [];
console.log(
  `serialize+deserialize, ns per packet — Deno ${Deno.version.deno} vs Node ${theirs.node} ` +
    `(Moleculer ${theirs.moleculer})`,
);
console.log("serializer  packet   bytes  Denolecular  Moleculer  ratio");
for (const name of SERIALIZERS) {
  const s = resolveSerializer(name);
  await s.init?.();
  for (const type of Object.keys(PACKETS)) {
    const a = ours[name]![type]!;
    const b = theirs.results[name]![type]!;
    const bytes = s.serialize((PACKETS as Record<string, Record<string, unknown>>)[type]!).length;
    rows.push({
      serializer: name,
      packet: type,
      bytes,
      denolecular: a,
      moleculer: b,
      ratio: b / a,
    });
    console.log(
      `${name.padEnd(11)} ${type.padEnd(6)} ${String(bytes).padStart(6)} ${
        a.toFixed(0).padStart(12)
      } ${b.toFixed(0).padStart(10)} ${(b / a).toFixed(2).padStart(6)}×`,
    );
  }
}
await Deno.mkdir(here("./.out/"), { recursive: true });
await Deno.writeTextFile(
  here("./.out/serializers.json"),
  JSON.stringify(
    { deno: Deno.version.deno, node: theirs.node, moleculer: theirs.moleculer, rows },
    null,
    2,
  ) + "\n",
);
