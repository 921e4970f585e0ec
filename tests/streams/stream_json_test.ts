/**
 * The Buffer JSON fast paths of stream chunks write the bytes `JSON.stringify` writes for a Node
 * Buffer, and read back what `JSON.parse` reads; anything else is left to the plain path.
 */

import assert from "node:assert/strict";
import { decodeChunkPacket, encodeChunkPacket } from "../../src/transit/stream_json.ts";
import { bytes } from "./_bytes.ts";

type Rec = Record<string, unknown>;
const enc = new TextEncoder();
const encode = (p: Rec) => enc.encode(JSON.stringify({ ver: "5", sender: "n", ...p }));
const parse = (text: string) => JSON.parse(text);
/** What Moleculer writes: a Buffer's `toJSON()`. */
const plain = (chunk: Uint8Array) => ({
  type: "Buffer",
  data: Array.from(chunk),
});

Deno.test("stream_json: a chunk packet is byte for byte the plain JSON", () => {
  for (const size of [0, 1, 2, 255, 256, 4097, 100_000]) {
    const chunk = bytes(size, size + 1);
    const base = {
      id: "a-1",
      action: "x.y",
      params: null,
      meta: {},
      stream: true,
      seq: 3,
    };
    const fast = encodeChunkPacket(encode, { ...base }, "params", chunk);
    assert.deepEqual(
      fast,
      encode({ ...base, params: plain(chunk) }),
      `size ${size}`,
    );
    const res = {
      id: "a-1",
      meta: { m: "é" },
      success: true,
      data: null,
      stream: true,
      seq: 9,
    };
    const fastRes = encodeChunkPacket(encode, { ...res }, "data", chunk);
    assert.deepEqual(
      fastRes,
      encode({ ...res, data: plain(chunk) }),
      `RES size ${size}`,
    );
  }
});

Deno.test("stream_json: a chunk from Moleculer reads back as bytes, the rest as JSON.parse", () => {
  for (const size of [0, 1, 3]) {
    const small = bytes(size, 5);
    const p = decodeChunkPacket(
      // `seq` after the data, as Moleculer and Denolecular order a chunk packet.
      encode({ id: "q", params: plain(small), pad: "x".repeat(5000), seq: 2 }),
      parse,
    );
    assert.deepEqual(
      (p!.params as { data: Uint8Array }).data,
      small,
      `size ${size}`,
    );
  }
  const chunk = bytes(70_000);
  const packet = encode({
    id: "q",
    meta: { k: [1, 2] },
    params: plain(chunk),
    stream: true,
    seq: 1,
  });
  const p = decodeChunkPacket(packet, parse)!;
  assert.deepEqual((p.params as { data: Uint8Array }).data, chunk);
  assert.deepEqual({ ...p, params: null }, {
    ...JSON.parse(new TextDecoder().decode(packet)),
    params: null,
  });
});

Deno.test("stream_json: what is not a stream chunk is left to the plain path", () => {
  const buf = plain(bytes(5000));
  // Not a stream packet (no seq): a Buffer in a plain request stays an array of numbers.
  assert.equal(
    decodeChunkPacket(encode({ id: "q", params: buf }), parse),
    undefined,
  );
  // A Buffer nested deeper than the chunk's place.
  assert.equal(
    decodeChunkPacket(encode({ id: "q", params: { f: buf }, seq: 1 }), parse),
    undefined,
  );
  // Out-of-range and malformed digits.
  const bad = new TextEncoder().encode(
    '{"seq":1,"params":{"type":"Buffer","data":[1,256,3]}}',
  );
  assert.equal(decodeChunkPacket(bad, parse), undefined);
  const junk = new TextEncoder().encode(
    '{"seq":1,"params":{"type":"Buffer","data":[1,"2"]}}',
  );
  assert.equal(decodeChunkPacket(junk, parse), undefined);
});
