// The packets of the serializer benchmark, shared by its Deno side (bench/serializers.ts) and its
// Node side (bench/node/serializers.mjs): a REQ, a RES and an EVENT of protocol 5 as the transits
// send them, with a small realistic body.

/** @type {Record<string, Record<string, unknown>>} */
export const PACKETS = {
  REQ: {
    id: "2c1b8d36-0f6e-4c8a-b1a4-5d3e2f1a0b9c",
    action: "users.get",
    params: { id: 42, fields: ["name", "email", "roles"], populate: true },
    meta: { user: { id: 7, tenant: "acme" } },
    headers: {},
    timeout: 5000,
    level: 1,
    tracing: null,
    parentID: null,
    requestID: "2c1b8d36-0f6e-4c8a-b1a4-5d3e2f1a0b9c",
    caller: "api.gateway",
    stream: false,
    ver: "5",
    sender: "bench-caller",
  },
  RES: {
    id: "2c1b8d36-0f6e-4c8a-b1a4-5d3e2f1a0b9c",
    meta: { user: { id: 7, tenant: "acme" } },
    headers: {},
    success: true,
    data: {
      id: 42,
      name: "Ann Example",
      email: "ann@example.com",
      roles: ["admin", "user"],
      score: 12.75,
      createdAt: "2024-01-02T03:04:05.006Z",
    },
    ver: "5",
    sender: "bench-responder",
  },
  EVENT: {
    id: "e7f3a2b1-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
    event: "user.updated",
    data: { id: 42, changes: { email: "ann@example.org" } },
    groups: ["mail", "audit"],
    broadcast: false,
    meta: {},
    headers: {},
    level: 1,
    tracing: null,
    parentID: null,
    requestID: "e7f3a2b1-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
    caller: null,
    needAck: null,
    ver: "5",
    sender: "bench-caller",
  },
};

/** The serializers measured, by their Moleculer names. */
export const SERIALIZERS = ["JSON", "JSONExt", "MsgPack", "Notepack", "CBOR"];

/**
 * Mean ns of one `serialize` + `deserialize` of `payload`: warmed up, then timed in rounds of
 * `batch` for about `ms` milliseconds; the best round is kept (the least disturbed by others).
 *
 * @param {{ serialize(p: unknown, type?: string): Uint8Array, deserialize(b: Uint8Array, type?: string): unknown }} s
 * @param {Record<string, unknown>} payload
 * @param {string} type
 * @param {number} ms
 */
export function measure(s, payload, type, ms = 600) {
  const batch = 2000;
  let sink = 0;
  const once = () => {
    const bytes = s.serialize(payload, type);
    sink += bytes.length;
    s.deserialize(bytes, type);
  };
  for (let i = 0; i < batch * 10; i++) once();
  let best = Infinity;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) once();
    best = Math.min(best, ((performance.now() - t0) * 1e6) / batch);
  }
  if (sink === 0) throw new Error("nothing was encoded");
  return best;
}
