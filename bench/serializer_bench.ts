/**
 * Micro-benchmarks of the serializers on a typical REQ and RES packet (protocol 5), as transit
 * builds them: JSON in detail, then JSONExt, MsgPack, Notepack and CBOR. Run:
 * `deno bench -A bench/serializer_bench.ts`.
 *
 * @module
 */

import { JSONSerializer, resolveSerializer } from "../mod.ts";

const json = new JSONSerializer();

/** A REQ as `Transit.request` sends it for `math.add` with `{a: 1, b: 2}`. */
const req = {
  id: "2c1b8d36-0f6e-4c8a-b1a4k3",
  action: "math.add",
  params: { a: 1, b: 2 },
  meta: {},
  headers: {},
  timeout: 0,
  level: 1,
  tracing: null,
  parentID: null,
  requestID: "2c1b8d36-0f6e-4c8a-b1a4k3",
  caller: null,
  stream: false,
  ver: "5",
  sender: "bench-caller",
};
const res = {
  id: "2c1b8d36-0f6e-4c8a-b1a4k3",
  meta: {},
  headers: {},
  success: true,
  data: 3,
  ver: "5",
  sender: "bench-responder",
};
const reqBytes = json.serialize(req);
const resBytes = json.serialize(res);

Deno.bench({
  name: `REQ encode (${reqBytes.length} B)`,
  group: "json",
  baseline: true,
  fn: () => {
    json.serialize(req);
  },
});

Deno.bench({
  name: "REQ decode",
  group: "json",
  fn: () => {
    json.deserialize(reqBytes);
  },
});

Deno.bench({
  name: `RES encode (${resBytes.length} B)`,
  group: "json",
  fn: () => {
    json.serialize(res);
  },
});

Deno.bench({
  name: "RES decode",
  group: "json",
  fn: () => {
    json.deserialize(resBytes);
  },
});

const te = new TextEncoder();
const td = new TextDecoder();

Deno.bench({
  name: "REQ encode, bare JSON.stringify (no bytes)",
  group: "json parts",
  baseline: true,
  fn: () => {
    JSON.stringify(req);
  },
});

Deno.bench({
  name: "REQ encode, TextEncoder.encode of the string",
  group: "json parts",
  fn: () => {
    te.encode(JSON.stringify(req));
  },
});

Deno.bench({
  name: "REQ decode, TextDecoder (non-fatal) + JSON.parse",
  group: "json parts",
  fn: () => {
    JSON.parse(td.decode(reqBytes));
  },
});

// What src/serializers/json.ts does since the hot-path changes (docs/BENCHMARKS.md, finding 1).
const SLAB = 64 * 1024;
let slab = new Uint8Array(SLAB);
let at = 0;
function encodeSlab(text: string): Uint8Array {
  if (SLAB - at < text.length * 3) {
    slab = new Uint8Array(SLAB);
    at = 0;
  }
  const { written } = te.encodeInto(text, slab.subarray(at));
  const out = slab.subarray(at, at + written);
  at += written;
  return out;
}
const fatal = new TextDecoder("utf-8", { fatal: true });

Deno.bench({
  name: "REQ encode, encodeInto a shared slab (as shipped)",
  group: "json parts",
  fn: () => {
    encodeSlab(JSON.stringify(req));
  },
});

Deno.bench({
  name: "REQ decode, lenient + U+FFFD re-check (as shipped)",
  group: "json parts",
  fn: () => {
    let text = td.decode(reqBytes);
    if (text.indexOf("\uFFFD") !== -1) text = fatal.decode(reqBytes);
    JSON.parse(text);
  },
});

// The other serializers on the same REQ and RES, each made ready as a broker does. Side by side
// with Moleculer's own serializers in Node: `deno task bench:serializers`.
for (const name of ["JSONExt", "MsgPack", "Notepack", "CBOR"]) {
  const serializer = resolveSerializer(name);
  await serializer.init?.();
  for (const [type, payload] of [["REQ", req], ["RES", res]] as const) {
    const bytes = serializer.serialize(payload);
    Deno.bench({
      name: `${name} ${type} encode (${bytes.length} B)`,
      group: name,
      baseline: type === "REQ",
      fn: () => {
        serializer.serialize(payload);
      },
    });
    Deno.bench({
      name: `${name} ${type} decode`,
      group: name,
      fn: () => {
        serializer.deserialize(bytes);
      },
    });
  }
}
