/**
 * One conformance suite, run against every serializer implementation: every packet type of both
 * transit protocols round-trips, bytes handed out stay valid, undecodable bytes are refused with
 * `InvalidPacketDataError`, and — for a serializer that has a Moleculer counterpart — the bytes
 * are those of Moleculer 0.15's own serializer, byte for byte, for every case set it names. A
 * new serializer joins by adding an entry to `IMPLEMENTATIONS`.
 *
 * Binary is built on each side as that side has it: a `Uint8Array` here, a `Buffer` in Node
 * (what a Deno `Uint8Array` must be to Moleculer), except for plain JSON, which Moleculer does
 * not make binary-aware: there the Node side gets a `Uint8Array` too, and the bytes must match.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { InvalidPacketDataError } from "../../src/errors.ts";
import {
  resolveSerializer,
  resolveSerializerIn,
  type SerializerEntry,
} from "../../src/serializers/resolve.ts";
import type { PacketPayload, Serializer } from "../../src/serializers/serializer.ts";
import { nodeBinary, requirePeers } from "../_helpers/moleculer_peer.ts";
import type { TaggedJSONOptions } from "./_lazy_fixture.ts";
import { caseSets, PACKETS, VALUES } from "./_packets.mjs";

type CaseSet = keyof ReturnType<typeof caseSets>;
type Case = {
  name: string;
  payload: PacketPayload;
  protocol?: string;
  type?: string;
};

/** The cases with binary as Deno has it. */
const SETS = caseSets((bytes: number[]) => new Uint8Array(bytes)) as unknown as Record<
  CaseSet,
  Case[]
>;

interface Implementation {
  name: string;
  /** Makes the serializer the way a broker does (by its option), not yet made ready. */
  make(): Serializer;
  /** Case sets that must round-trip exactly, besides every packet type and `VALUES`. */
  roundTrips: CaseSet[];
  /** The Moleculer serializer whose bytes it must reproduce, and for which case sets. */
  moleculer?: {
    /** Its name in Moleculer's `Serializers`. */
    serializer: string;
    /** What binary is in Node for the comparison. */
    binary: "buffer" | "uint8array";
    sets: CaseSet[];
  };
}

const COMMON: CaseSet[] = ["PACKETS", "VALUES", "BINARY", "STRINGS", "NUMBERS"];

/** A lazily loaded serializer, to hold the `import()` path to the same contract. */
const TAGGED: SerializerEntry = {
  name: "TaggedJSON",
  library: "./_lazy_fixture.ts",
  load: async () => {
    const { TaggedJSONSerializer } = await import("./_lazy_fixture.ts");
    return (options) => new TaggedJSONSerializer(options as TaggedJSONOptions);
  },
};

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: "JSON",
    make: () => resolveSerializer("JSON"),
    roundTrips: ["STRINGS"],
    moleculer: {
      serializer: "JSON",
      binary: "uint8array",
      sets: [...COMMON, "JSON_EDGES"],
    },
  },
  {
    name: "JSONExt",
    make: () => resolveSerializer("JSONExt"),
    roundTrips: ["STRINGS", "BINARY", "DATES", "EXTENDED"],
    moleculer: {
      serializer: "JSONExt",
      binary: "buffer",
      sets: [...COMMON, "DATES", "EXTENDED", "JSON_EDGES"],
    },
  },
  {
    name: "MsgPack",
    make: () => resolveSerializer("MsgPack"),
    roundTrips: ["STRINGS", "BINARY", "DATES"],
    moleculer: {
      serializer: "MsgPack",
      binary: "buffer",
      sets: [...COMMON, "DATES", "MSGPACK5_EDGES"],
    },
  },
  {
    name: "Notepack",
    make: () => resolveSerializer("Notepack"),
    roundTrips: ["STRINGS", "BINARY", "DATES"],
    moleculer: {
      serializer: "Notepack",
      binary: "buffer",
      sets: [...COMMON, "DATES", "NOTEPACK_EDGES"],
    },
  },
  {
    name: "CBOR",
    make: () => resolveSerializer("CBOR"),
    roundTrips: ["STRINGS", "BINARY", "DATES"],
    moleculer: {
      serializer: "CBOR",
      binary: "buffer",
      sets: [...COMMON, "DATES", "CBOR_EDGES"],
    },
  },
  {
    name: "TaggedJSON (lazily loaded fixture)",
    make: () => resolveSerializerIn([TAGGED]),
    roundTrips: [],
  },
];

const MOLECULER_015 = fileURLToPath(
  new URL("../node_modules/moleculer-015", import.meta.url),
);

// Moleculer's serializer encodes the named case sets of `_packets.mjs`; the bytes come back as
// base64.
const NODE_SCRIPT = `
const { Serializers } = require(process.env.MOLECULER_DIR);
import(process.env.PACKETS_URL).then(({ caseSets }) => {
  const serializer = new Serializers[process.env.SERIALIZER]();
  serializer.init({ getLogger: () => console });
  const bin = process.env.BINARY === "buffer" ? Buffer.from : (b) => new Uint8Array(b);
  const sets = caseSets(bin);
  const all = process.env.SETS.split(",").flatMap((name) => sets[name]);
  const bytes = all.map((c) => Buffer.from(serializer.serialize(c.payload, c.type)).toString("base64"));
  process.stdout.write(JSON.stringify(bytes));
}, (err) => {
  console.error(err);
  process.exit(1);
});
`;

/** Moleculer 0.15's bytes for every case of the sets, from its own serializer run in Node. */
async function moleculerBytes(
  { serializer, binary, sets }: NonNullable<Implementation["moleculer"]>,
): Promise<Uint8Array[]> {
  requirePeers();
  const node = nodeBinary();
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(node, {
      args: ["-e", NODE_SCRIPT],
      env: {
        MOLECULER_DIR: MOLECULER_015,
        PACKETS_URL: new URL("./_packets.mjs", import.meta.url).href,
        SERIALIZER: serializer,
        BINARY: binary,
        SETS: sets.join(","),
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        `Node.js not found ('${node}'): install Node 20 or set MOLECULER_PEER_NODE`,
      );
    }
    throw err;
  }
  assert.equal(
    out.code,
    0,
    `node failed: ${new TextDecoder().decode(out.stderr)}`,
  );
  const base64 = JSON.parse(new TextDecoder().decode(out.stdout)) as string[];
  return base64.map((b) => Uint8Array.from(atob(b), (c) => c.charCodeAt(0)));
}

const roundTrip = (s: Serializer, payload: PacketPayload): PacketPayload =>
  s.deserialize(s.serialize(payload));

for (const impl of IMPLEMENTATIONS) {
  Deno.test(`Serializer conformance: ${impl.name}`, async (t) => {
    const serializer = impl.make();

    await t.step(
      "has a name and gets ready with init(), again and again",
      async () => {
        assert.equal(typeof serializer.name, "string");
        assert.notEqual(serializer.name, "");
        await serializer.init?.();
        await serializer.init?.();
      },
    );

    for (const protocol of ["4", "5"] as const) {
      await t.step(
        `every packet type of protocol ${protocol} round-trips`,
        () => {
          const cases = PACKETS.filter((c) => c.protocol === protocol);
          const types = new Set(cases.map((c) => c.type));
          assert.deepEqual(
            [...types].sort(),
            [
              "DISCONNECT",
              "DISCOVER",
              "EVENT",
              "HEARTBEAT",
              "INFO",
              "PING",
              "PONG",
              "REQ",
              "RES",
            ],
          );
          for (const c of cases) {
            assert.equal(c.payload.ver, protocol);
            assert.deepEqual(
              roundTrip(serializer, c.payload),
              c.payload,
              c.name,
            );
          }
        },
      );
    }

    await t.step(
      "payload values round-trip: text, numbers, containers, odd keys, size",
      () => {
        for (const c of VALUES) {
          assert.deepEqual(roundTrip(serializer, c.payload), c.payload, c.name);
        }
      },
    );

    for (const set of impl.roundTrips) {
      await t.step(
        `${set} round-trip${set === "BINARY" ? ", binary as plain Uint8Array" : ""}`,
        () => {
          for (const c of SETS[set]) {
            assert.deepEqual(
              roundTrip(serializer, c.payload),
              c.payload,
              c.name,
            );
          }
        },
      );
    }

    await t.step(
      "bytes handed out stay valid while more packets are encoded",
      () => {
        const all = [...PACKETS, ...VALUES];
        const encoded = all.map((c) => serializer.serialize(c.payload));
        for (const bytes of encoded) {
          assert.ok(bytes instanceof Uint8Array && bytes.length > 0);
        }
        encoded.forEach((bytes, i) => {
          assert.deepEqual(
            serializer.deserialize(bytes),
            all[i]!.payload,
            all[i]!.name,
          );
        });
      },
    );

    await t.step(
      "decodes a view into a larger buffer, and keeps no hold on it",
      () => {
        const payload = impl.roundTrips.includes("BINARY")
          ? SETS.BINARY[0]!.payload
          : PACKETS[0]!.payload;
        const bytes = serializer.serialize(payload);
        const frame = new Uint8Array(bytes.length + 16).fill(0x20);
        frame.set(bytes, 8);
        const view = frame.subarray(8, 8 + bytes.length);
        const decoded = serializer.deserialize(view);
        frame.fill(0);
        assert.deepEqual(decoded, payload);
      },
    );

    await t.step(
      "refuses bytes that are no payload with InvalidPacketDataError",
      () => {
        const whole = serializer.serialize(PACKETS[0]!.payload);
        const bad = [
          new Uint8Array(0),
          whole.subarray(0, Math.floor(whole.length / 2)),
        ];
        for (const bytes of bad) {
          assert.throws(
            () => serializer.deserialize(bytes),
            InvalidPacketDataError,
          );
        }
      },
    );

    const moleculer = impl.moleculer;
    if (moleculer !== undefined) {
      await t.step(
        `the bytes are Moleculer 0.15's ${moleculer.serializer} serializer's: ${
          moleculer.sets.join(", ")
        }`,
        async () => {
          const cases = moleculer.sets.flatMap((name) => SETS[name]);
          const theirs = await moleculerBytes(moleculer);
          assert.equal(theirs.length, cases.length);
          cases.forEach((c, i) => {
            assert.deepEqual(
              serializer.serialize(c.payload),
              theirs[i],
              `${c.name}${c.protocol !== undefined ? ` (protocol ${c.protocol})` : ""}`,
            );
          });
        },
      );
    }
  });
}
