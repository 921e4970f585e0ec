/**
 * Interop: a Deno broker and a real Moleculer node with the same transmit middleware —
 * `Compression` or `Encryption` on both sides — over NATS: discovery, calls both ways (packets
 * over and under the compression threshold), an event each way, and nothing dropped. One
 * cluster per middleware and Moleculer version. Moleculer 0.14 runs Encryption without an IV
 * (key and IV derived from the password, its default); Moleculer 0.15 needs one.
 */

import assert from "node:assert/strict";
import {
  type Context,
  Encryption,
  type MiddlewareOption,
  Middlewares,
  type ServiceSchema,
} from "../../mod.ts";
import type { PeerTransmit } from "../_helpers/moleculer_peer.ts";
import { requirePeers } from "../_helpers/moleculer_peer.ts";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { deferred, IGNORE, startDeno, startPeer, VERSIONS } from "./_shared.ts";

type Rec = Record<string, unknown>;

interface Case {
  readonly name: string;
  readonly version: "0.14" | "0.15";
  readonly peer: PeerTransmit[];
  readonly deno: () => MiddlewareOption[];
}

const KEY = "0123456789abcdef0123456789abcdef"; // 32 bytes: the aes-256-cbc key
const IV = "fedcba9876543210"; // 16 bytes

const CASES: Case[] = [
  {
    name: "Compression deflateRaw, threshold 1kb",
    version: "0.14",
    peer: [{ type: "Compression", options: { method: "deflateRaw", threshold: "1kb" } }],
    deno: () => [Middlewares.Transmit.Compression({ method: "deflateRaw", threshold: "1kb" })],
  },
  {
    name: "Compression gzip, threshold 200",
    version: "0.15",
    peer: [{ type: "Compression", options: { method: "gzip", threshold: 200 } }],
    deno: () => [Middlewares.Transmit.Compression("gzip", 200)],
  },
  {
    name: "Encryption aes-256-cbc, key and IV from a password",
    version: "0.14",
    peer: [{ type: "Encryption", password: "a password of any length" }],
    deno: () => [Encryption("a password of any length")],
  },
  {
    name: "Encryption aes-256-cbc with an IV",
    version: "0.15",
    peer: [{ type: "Encryption", password: KEY, algorithm: "aes-256-cbc", iv: IV }],
    deno: () => [Middlewares.Transmit.Encryption(KEY, "aes-256-cbc", IV)],
  },
];

const BIG = "moleculer ".repeat(400); // 4 KB: over every threshold above

function denoService(fromNode: ReturnType<typeof deferred<Rec>>): ServiceSchema {
  return {
    name: "denotx",
    actions: {
      echo(ctx: Context<Rec>) {
        return { got: ctx.params, meta: { ...ctx.meta } };
      },
    },
    events: {
      "node.tx"(ctx: Context<Rec>) {
        fromNode.resolve(ctx.params);
      },
    },
  };
}

for (const c of CASES) {
  const v = VERSIONS.find((x) => x.version === c.version)!;
  Deno.test({
    name: `interop Moleculer ${v.version} (protocol ${v.protocol}): ${c.name} on both sides`,
    ignore: IGNORE,
    async fn(t) {
      requirePeers();
      await using nats = await startNatsServer();
      const id = c.name.split(" ")[0]!.toLowerCase();
      await using peer = await startPeer(nats, v, `node-${id}`, {
        services: ["nodemath", "listener"],
        transmit: c.peer,
      });
      const fromNode = deferred<Rec>();
      await using deno = await startDeno({
        nodeID: `deno-${id}`,
        transporter: nats.url,
        protocolVersion: v.protocol,
        middlewares: c.deno(),
        services: [denoService(fromNode)],
      });
      const { broker } = deno;

      await t.step("discovery both ways", async () => {
        await broker.waitForServices(["nodemath", "nodelistener"], 5000);
        await peer.waitForServices(["denotx"], 5000);
      });

      await t.step("calls both ways, small and large packets", async () => {
        for (const params of [{ a: 1 }, { big: BIG }]) {
          const res = await broker.call("nodemath.echo", params, { meta: { m: 1 } }) as Rec;
          assert.deepEqual(res.params, params);
          assert.deepEqual(res.meta, { m: 1 });
          const back = await peer.call("denotx.echo", params, { meta: { n: 2 } });
          assert.deepEqual(back.data, { got: params, meta: { n: 2 } });
        }
      });

      await t.step("an event each way", async () => {
        await broker.emit("user.created", { id: 7, big: BIG });
        const got = await peer.waitForEvent((e) => e.handler === "user.created");
        assert.deepEqual(got.data, { id: 7, big: BIG });
        assert.equal(got.nodeID, broker.nodeID);
        await peer.call("nodemath.relayEmit", { event: "node.tx", data: { from: "node", BIG } });
        assert.deepEqual(await fromNode.promise, { from: "node", BIG });
      });

      assert.deepEqual(
        deno.logs.filter((l) => l.level === "warn" || l.level === "error").map((l) => l.message),
        [],
        "nothing was dropped",
      );
    },
  });
}
