/**
 * The TCP transporter's frames and options, byte for byte against Moleculer's TCP transporter:
 * the header Moleculer's writer builds, frames split and joined anywhere, and the inputs that
 * must close a connection (wrong CRC, bad length, over `maxPacketSize`).
 */

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { BrokerOptionsError } from "../../src/errors.ts";
import {
  encodeFrame,
  FRAME_TYPE,
  FrameError,
  FrameParser,
  frameTypeOf,
} from "../../src/transporters/tcp/frame.ts";
import { parseTcpUrls, resolveTcpSettings } from "../../src/transporters/tcp/options.ts";
import { requirePeers } from "../_helpers/moleculer_peer.ts";

const te = new TextEncoder();

function collect(max = 1024) {
  const frames: string[] = [];
  const unknown: number[] = [];
  const parser = new FrameParser(
    max,
    (type, payload) => frames.push(`${type} ${new TextDecoder().decode(payload)}`),
    (b) => unknown.push(b),
  );
  return { frames, unknown, parser };
}

Deno.test("TCP frames: the bytes of Moleculer's writer, and its constants", () => {
  requirePeers();
  const require = createRequire(import.meta.url);
  const constants = require(
    "../node_modules/moleculer-015/src/transporters/tcp/constants.js",
  );
  const longName: Record<string, string> = { REQ: "REQUEST", RES: "RESPONSE" };
  for (const [type, id] of Object.entries(FRAME_TYPE)) {
    assert.equal(constants[`PACKET_${longName[type] ?? type}_ID`], id, type);
  }
  // Moleculer's TcpWriter: header.writeInt32BE(data.length + 6, 1); writeInt8(type, 5); crc.
  const data = te.encode('{"ver":"5","sender":"n1"}');
  const header = new Uint8Array(6);
  const view = new DataView(header.buffer);
  view.setInt32(1, data.length + 6);
  view.setInt8(5, 2);
  header[0] = header[1]! ^ header[2]! ^ header[3]! ^ header[4]! ^ header[5]!;
  const frame = encodeFrame(FRAME_TYPE.REQ, data);
  assert.deepEqual(frame.subarray(0, 6), header);
  assert.deepEqual(frame.subarray(6), data);
  assert.equal(frameTypeOf("INFO"), undefined, "INFO has no TCP frame");
  assert.equal(frameTypeOf("RES"), 3);
});

Deno.test("TCP frames: split and joined anywhere, unknown types skipped", () => {
  const { frames, unknown, parser } = collect();
  const stream = new Uint8Array([
    ...encodeFrame(1, te.encode("one")),
    ...encodeFrame(42, te.encode("future")),
    ...encodeFrame(3, te.encode("")),
    ...encodeFrame(8, te.encode("hello")),
  ]);
  for (let i = 0; i < stream.length; i += 5) {
    parser.push(stream.subarray(i, i + 5));
  }
  assert.deepEqual(frames, ["EVENT one", "RES ", "GOSSIP_HELLO hello"]);
  assert.deepEqual(unknown, [42]);
  assert.equal(parser.pending, 0);
  // One chunk holding several frames, the last one incomplete.
  parser.push(
    new Uint8Array(
      [...encodeFrame(4, te.encode("a")), ...encodeFrame(5, te.encode("bc"))]
        .slice(0, -1),
    ),
  );
  assert.deepEqual(frames.slice(3), ["PING a"]);
  assert.equal(parser.pending, 7);
});

Deno.test("TCP frames: a wrong CRC, a bad length, an oversized frame throw", () => {
  const bad = encodeFrame(2, te.encode("x"));
  bad[0] = bad[0]! ^ 0xff;
  assert.throws(
    () => collect().parser.push(bad),
    (e) => e instanceof FrameError && e.reason === "crc",
  );
  const short = new Uint8Array([2, 0, 0, 0, 2, 0]); // length 2 < 6, CRC right
  assert.throws(
    () => collect().parser.push(short),
    (e) => e instanceof FrameError && e.reason === "length",
  );
  const negative = new Uint8Array([0x80 ^ 1, 0x80, 0, 0, 0, 1]);
  assert.throws(
    () => collect().parser.push(negative),
    (e) => e instanceof FrameError && e.reason === "length",
  );
  // Over maxPacketSize: refused from its header, before the payload is buffered.
  const big = encodeFrame(2, new Uint8Array(2000)).subarray(0, 6);
  assert.throws(
    () => collect(1024).parser.push(big),
    (e) => e instanceof FrameError && e.reason === "size",
  );
});

Deno.test("TCP options: Moleculer's defaults and urls forms", () => {
  const s = resolveTcpSettings();
  assert.deepEqual(
    [
      s.udpDiscovery,
      s.udpPort,
      s.udpPeriod,
      s.udpMulticast,
      s.udpMulticastTTL,
      s.udpBroadcast,
    ],
    [true, 4445, 30, "239.0.0.0", 1, false],
  );
  assert.deepEqual([
    s.port,
    s.gossipPeriod,
    s.maxConnections,
    s.maxPacketSize,
    s.useHostname,
  ], [
    0,
    2,
    32,
    1024 * 1024,
    true,
  ]);
  const expect = [
    { nodeID: "a", host: "10.0.0.1", port: 6000 },
    { nodeID: "b", host: "::1", port: 6001 },
  ];
  assert.deepEqual(parseTcpUrls("tcp://10.0.0.1:6000/a, [::1]:6001/b"), expect);
  assert.deepEqual(
    parseTcpUrls(["10.0.0.1:6000/a", "tcp://::1:6001/b"]),
    expect,
  );
  assert.deepEqual(
    parseTcpUrls({ a: "10.0.0.1:6000", b: "[::1]:6001" }),
    expect,
  );
  assert.deepEqual(resolveTcpSettings("tcp://10.0.0.1:6000/a").urls, [
    expect[0],
  ]);
  assert.deepEqual(
    resolveTcpSettings({ urls: "file:///etc/nodes.json" }).urls,
    {
      file: "/etc/nodes.json",
    },
  );
});

Deno.test("TCP options: a bad option names itself and the fix", () => {
  const check = (options: Record<string, unknown>, re: RegExp) =>
    assert.throws(
      () => resolveTcpSettings(options),
      (e) => e instanceof BrokerOptionsError && re.test(e.message),
    );
  check(
    { urls: "10.0.0.1:6000" },
    /'urls' entry "10.0.0.1:6000" needs the node's id/,
  );
  check(
    { urls: ["10.0.0.1/a"] },
    /'urls' entry "10.0.0.1\/a" needs a host and a port/,
  );
  check({ port: 70000 }, /'port' must be an integer from 0 to 65535/);
  check({ gossipPeriod: 0 }, /'gossipPeriod' must be a number/);
  check({ udpDiscovery: "yes" }, /'udpDiscovery' must be true or false/);
  check({ udpPortt: 1 }, /'udpPortt' is not an option of the TCP transporter/);
});

Deno.test("TCP options: the transporter option's forms resolve to the TCP transporter", async () => {
  const { resolveTransporter } = await import(
    "../../src/transporters/resolve.ts"
  );
  const { TcpTransporter } = await import("../../src/transporters/tcp/mod.ts");
  for (
    const opt of [
      "TCP",
      "tcp",
      "tcp://127.0.0.1:6000/a,127.0.0.1:6001/b",
      { type: "TCP" },
      {
        type: "TCP",
        options: { udpDiscovery: false, urls: { a: "127.0.0.1:6000" } },
      },
    ]
  ) {
    const t = resolveTransporter(opt);
    assert.ok(t instanceof TcpTransporter, JSON.stringify(opt));
    assert.equal(t.hasBuiltInBalancer, false);
    assert.equal(t.maxPayload, 1024 * 1024 - 6);
  }
  assert.throws(
    () => resolveTransporter({ type: "TCP", options: { maxPacketSize: -1 } }),
    /'maxPacketSize' must be an integer/,
  );
});

Deno.test("TCP frames: a large frame in many chunks, then the frames after it", () => {
  const { frames, parser } = collect(1024 * 1024);
  const big = new Uint8Array(300_000).fill(0x61);
  const stream = new Uint8Array([
    ...encodeFrame(2, big),
    ...encodeFrame(1, te.encode("after")),
  ]);
  for (let i = 0; i < stream.length; i += 4096) {
    parser.push(stream.subarray(i, i + 4096));
  }
  assert.equal(frames.length, 2);
  assert.equal(frames[0]!.length, "REQ ".length + big.length);
  assert.equal(frames[1], "EVENT after");
  assert.equal(parser.pending, 0);
});
