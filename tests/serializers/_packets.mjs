// Packets of both transit protocols ("4" = Moleculer 0.14, "5" = Moleculer 0.15), shared by the
// serializer conformance suite and the Node.js script that asks Moleculer's own serializers for
// their bytes. Plain JavaScript, so both runtimes import the very same values (undefined, Dates,
// NaN and -0 do not survive a trip through JSON). Fields are those the transits of both sides
// send (src/transit/transit.ts; Moleculer's src/transit.js), `ver` and `sender` included.

const ID = "043d5a1e-7f2b-4c1d-9e3a-5b6c7d8e9f00";
const PARENT = "9b1f3c2d-0e4a-4b5c-8d6e-7f8091a2b3c4";

/** A v5 payload as protocol 4 has it: without `headers`, with `ver: "4"`. */
function v4(payload) {
  const { headers: _headers, ...rest } = payload;
  return { ...rest, ver: "4" };
}

const REQ = {
  id: ID,
  action: "v2.greeter.hello",
  params: {
    name: "John",
    tags: ["a", "b"],
    nested: { deep: { list: [1, 2.5, -3, null] } },
  },
  meta: { user: { id: 7, roles: ["admin"] }, $cache: false },
  headers: { "x-trace": "abc", priority: 2 },
  timeout: 3000,
  level: 2,
  tracing: null,
  parentID: PARENT,
  requestID: ID,
  caller: "v1.gateway",
  stream: false,
  ver: "5",
  sender: "node-a",
};

const RES_OK = {
  id: ID,
  meta: { user: { id: 7, roles: ["admin"] }, elapsed: 12 },
  headers: { "x-served-by": "node-b" },
  success: true,
  data: {
    greeting: "Hello, John!",
    count: 3,
    items: [{ id: 1 }, { id: 2 }],
    none: null,
  },
  ver: "5",
  sender: "node-b",
};

const RES_ERROR = {
  id: ID,
  meta: {},
  headers: {},
  success: false,
  data: null,
  error: {
    name: "ValidationError",
    message: "Parameters validation error!",
    nodeID: "node-b",
    code: 422,
    type: "VALIDATION_ERROR",
    retryable: false,
    stack: "ValidationError: Parameters validation error!\n    at check (file:///svc.ts:1:1)",
    data: [{
      type: "required",
      field: "name",
      message: "The 'name' field is required.",
    }],
  },
  ver: "5",
  sender: "node-b",
};

const EVENT = {
  id: "e-1",
  event: "user.created",
  data: { id: 42, email: "ann@example.com" },
  groups: ["mail", "audit"],
  broadcast: false,
  meta: { tenant: "acme" },
  headers: { origin: "signup" },
  level: 1,
  tracing: null,
  parentID: null,
  requestID: "e-1",
  caller: null,
  needAck: null,
  ver: "5",
  sender: "node-a",
};

const BROADCAST = {
  id: "e-2",
  event: "$cache.clean",
  broadcast: true,
  meta: {},
  headers: {},
  level: 1,
  tracing: null,
  parentID: null,
  requestID: "e-2",
  caller: null,
  needAck: null,
  ver: "5",
  sender: "node-a",
};

const INFO = {
  services: [
    {
      name: "greeter",
      fullName: "v2.greeter",
      version: 2,
      settings: { $noVersionPrefix: false },
      metadata: { region: "eu" },
      actions: {
        "v2.greeter.hello": {
          rawName: "hello",
          name: "v2.greeter.hello",
          params: { name: "string" },
          cache: { keys: ["name"], ttl: 30 },
          visibility: "published",
        },
      },
      events: { "user.created": { name: "user.created", group: "greeter" } },
    },
  ],
  ipList: ["10.0.0.5", "192.168.1.20"],
  hostname: "deno-host",
  client: { type: "deno", version: "0.1.0", langVersion: "2.9.6" },
  config: {},
  instanceID: "b7a8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
  metadata: { zone: "a" },
  seq: 3,
  ver: "5",
  sender: "node-a",
};

/** A packet case: its name, packet type and payload. */
const V5 = [
  { name: "REQ", type: "REQ", payload: REQ },
  { name: "RES (success)", type: "RES", payload: RES_OK },
  { name: "RES (error)", type: "RES", payload: RES_ERROR },
  { name: "EVENT (to groups)", type: "EVENT", payload: EVENT },
  { name: "EVENT (broadcast, no data)", type: "EVENT", payload: BROADCAST },
  { name: "INFO", type: "INFO", payload: INFO },
  {
    name: "INFO (stopping: no services)",
    type: "INFO",
    payload: { ...INFO, services: [] },
  },
  {
    name: "DISCOVER",
    type: "DISCOVER",
    payload: { ver: "5", sender: "node-a" },
  },
  {
    name: "HEARTBEAT",
    type: "HEARTBEAT",
    payload: { cpu: 12.5, ver: "5", sender: "node-a" },
  },
  {
    name: "HEARTBEAT (no cpu yet)",
    type: "HEARTBEAT",
    payload: { cpu: null, ver: "5", sender: "n" },
  },
  {
    name: "PING",
    type: "PING",
    payload: { time: 1733140000123, id: "p-1", ver: "5", sender: "node-a" },
  },
  {
    name: "PONG",
    type: "PONG",
    payload: {
      time: 1733140000123,
      id: "p-1",
      arrived: 1733140000125,
      ver: "5",
      sender: "node-b",
    },
  },
  {
    name: "DISCONNECT",
    type: "DISCONNECT",
    payload: { ver: "5", sender: "node-a" },
  },
];

/**
 * Every packet type of both protocols, as `{ name, protocol, type, payload }`; each payload
 * round-trips exactly through every serializer (JSON-compatible values only).
 *
 * @type {Array<{ name: string, protocol: "4" | "5", type: string, payload: Record<string, unknown> }>}
 */
export const PACKETS = [
  ...V5.map((c) => ({ ...c, protocol: "5" })),
  ...V5.map((c) => ({ ...c, protocol: "4", payload: v4(c.payload) })),
];

/**
 * Values a payload may carry, each round-tripping exactly through every serializer.
 *
 * @type {Array<{ name: string, payload: Record<string, unknown> }>}
 */
export const VALUES = [
  {
    name: "text beyond ASCII",
    payload: {
      s: 'héllo wörld — 日本語 🚀 \u0000\u001f "quoted" \\ / \n\t',
      ver: "5",
      sender: "ü",
    },
  },
  {
    name: "numbers",
    payload: {
      // 1e21 is in NUMBERS only: notepack writes an integer past 2^64 as a wrapped uint 64.
      n: [
        0,
        1,
        -1,
        1.5,
        1e-7,
        Number.MAX_SAFE_INTEGER,
        -Number.MAX_SAFE_INTEGER,
        2 ** 32,
      ],
      ver: "5",
      sender: "n",
    },
  },
  {
    name: "empty and nested containers",
    payload: {
      a: [],
      o: {},
      s: "",
      deep: [[[{ x: [{}] }]]],
      t: true,
      f: false,
      ver: "5",
      sender: "n",
    },
  },
  {
    name: "keys that look special",
    payload: {
      "": 1,
      "a.b": 2,
      "0": 3,
      __proto__x: 4,
      constructor: "c",
      ver: "5",
      sender: "n",
    },
  },
  {
    name: "a large payload (200 kB)",
    payload: {
      blob: "x".repeat(200_000),
      list: Array.from({ length: 1000 }, (_, i) => i),
      ver: "5",
      sender: "n",
    },
  },
];

/**
 * Values where JSON and JavaScript differ, for the byte comparison with Moleculer's JSON and
 * JSONExt serializers only: undefined is dropped, a Date becomes its ISO string, NaN and Infinity become
 * null, -0 becomes 0, a lone surrogate is escaped.
 *
 * @type {Array<{ name: string, payload: Record<string, unknown> }>}
 */
export const JSON_EDGES = [
  {
    name: "undefined, Date, NaN, Infinity, -0",
    payload: {
      gone: undefined,
      list: [undefined, NaN, Infinity, -Infinity, -0],
      when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
      nested: { gone: undefined, kept: null },
      ver: "5",
      sender: "n",
    },
  },
  {
    name: "lone surrogates",
    payload: { s: "\ud800 and \udfff", ver: "5", sender: "n" },
  },
];

/**
 * Binary payloads: REQ params, a RES whose data is binary, an EVENT with a large blob (bin 32).
 * Built with `bin`, which makes binary of the bytes it gets: a `Uint8Array` on Deno, a `Buffer`
 * in Node (what a Deno `Uint8Array` must be to Moleculer), or a `Uint8Array` in Node for plain
 * JSON, whose bytes Moleculer does not treat as binary.
 *
 * @param {(bytes: number[]) => Uint8Array} bin
 * @returns {Array<{ name: string, type: string, payload: Record<string, unknown> }>}
 */
export function binaryCases(bin) {
  const big = Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff);
  const mid = Array.from({ length: 300 }, (_, i) => i & 0xff);
  return [
    {
      name: "REQ with binary params",
      type: "REQ",
      payload: {
        ...REQ,
        params: {
          blob: bin([104, 105]),
          nested: { list: [bin([]), bin(mid)] },
        },
      },
    },
    {
      name: "RES whose data is binary",
      type: "RES",
      payload: { ...RES_OK, data: bin([0, 255, 1]) },
    },
    {
      name: "EVENT with 70 kB of binary",
      type: "EVENT",
      payload: { ...EVENT, data: bin(big) },
    },
  ];
}

/** Strings at every header size of MessagePack and CBOR, ASCII and not; round-trip everywhere. */
export const STRINGS = [
  {
    name: "strings at header boundaries",
    payload: {
      s: [23, 24, 31, 32, 47, 48, 255, 256, 65535, 65536].map((n) => "a".repeat(n)),
      // Short in UTF-16 units, long in bytes: the header grows after the bytes are written.
      u: [
        "é".repeat(20),
        "日".repeat(11),
        "日".repeat(100),
        "🚀".repeat(40),
        "é".repeat(30000),
      ],
      ver: "5",
      sender: "n",
    },
  },
  {
    name: "17 keys and 17 items (map 16, array 16)",
    payload: {
      ...Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])),
      list: Array.from({ length: 17 }, (_, i) => -i - 1),
      ver: "5",
      sender: "n",
    },
  },
  {
    name: "70 000 items (array 32)",
    payload: {
      list: Array.from({ length: 70_000 }, (_, i) => i % 3),
      ver: "5",
      sender: "n",
    },
  },
];

/** Dates each binary serializer keeps as dates: before 1970, whole seconds, ms, far ahead. */
export const DATES = [
  {
    name: "dates",
    payload: {
      epoch: new Date(0),
      whole: new Date(1733140000000),
      ms: new Date(1733140000123),
      before: new Date(-1500),
      y2500: new Date(Date.UTC(2500, 0, 1, 0, 0, 0, 7)),
      far: new Date(8.64e15),
      ver: "5",
      sender: "n",
    },
  },
];

/**
 * Numbers at every width, fractions, and what is no integer: bytes only (-0 is written as 0,
 * and notepack wraps integers past 2^64).
 */
export const NUMBERS = [
  {
    name: "numbers at every width",
    payload: {
      n: [
        0,
        -0,
        1.5,
        0.1,
        -1.5,
        1e-7,
        3.4e38,
        NaN,
        Infinity,
        -Infinity,
        127,
        128,
        255,
        256,
        65535,
        65536,
        2 ** 32 - 1,
        2 ** 32,
        2 ** 53 - 1,
        2 ** 53 + 2,
        1e21,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        -214748365,
        -214748366,
        -2147483648,
        -2147483649,
        -(2 ** 53 - 1),
        -(2 ** 53 + 2),
      ],
      gone: undefined,
      ver: "5",
      sender: "n",
    },
  },
];

/** What JSONExt keeps that JSON loses; round-trips through JSONExt. */
export const EXTENDED = [
  {
    name: "BigInt, Date, Map, Set, RegExp and strings that look prefixed",
    payload: {
      big: 2n ** 70n,
      neg: -5n,
      when: new Date(1733140000123),
      map: new Map([["a", 1], ["b", new Map([["c", [1, 2]]])]]),
      set: new Set([1, "two", 3]),
      re: /a|b[[]/gi,
      s: ["[[x", "[[BI]]12", "[", "[a[["],
      ver: "5",
      sender: "n",
    },
  },
];

/** Where msgpack5 chooses its own way: a Map, a typed array that is not bytes. Bytes only. */
export const MSGPACK5_EDGES = [
  {
    name: "msgpack5: Map, Uint16Array, ArrayBuffer, a lone surrogate",
    payload: {
      map: new Map([["a", 1], ["b", [2]]]),
      u16: new Uint16Array([1, 300]),
      ab: new Uint8Array([1, 2]).buffer,
      lone: "\ud800 x",
      ver: "5",
      sender: "n",
    },
  },
];

/** Where notepack chooses its own way: undefined in an array, toJSON, a Map, typed arrays. */
export const NOTEPACK_EDGES = [
  {
    name: "notepack: undefined in an array, toJSON, Map, Uint16Array, ArrayBuffer",
    payload: {
      list: [undefined, 1],
      custom: { toJSON: () => ({ as: "json" }) },
      map: new Map([["a", 1]]),
      u16: new Uint16Array([1, 300]),
      ab: new Uint8Array([1, 2]).buffer,
      ver: "5",
      sender: "n",
    },
  },
];

/** Where cbor-x chooses its own way: undefined, BigInt, Map, Set, a lone surrogate. */
export const CBOR_EDGES = [
  {
    name: "cbor-x: undefined in an array, BigInt, Map, Set",
    payload: {
      list: [undefined, 1],
      big: 5n,
      map: new Map([["a", 1]]),
      set: new Set([1, 2]),
      lone: "\ud800 x",
      ver: "5",
      sender: "n",
    },
  },
];

/**
 * Every named set of cases, binary built with `bin`.
 *
 * @param {(bytes: number[]) => Uint8Array} bin
 */
export function caseSets(bin) {
  return {
    PACKETS,
    VALUES,
    JSON_EDGES,
    BINARY: binaryCases(bin),
    STRINGS,
    DATES,
    NUMBERS,
    EXTENDED,
    MSGPACK5_EDGES,
    NOTEPACK_EDGES,
    CBOR_EDGES,
  };
}
