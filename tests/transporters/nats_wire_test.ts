/**
 * The wire client's own parts: the parser over every way a stream can be cut into reads, and
 * the client against a server that misbehaves (a TCP server speaking just enough NATS).
 */

import assert from "node:assert/strict";
import { Parser, ProtocolError } from "../../src/transporters/nats/wire/parser.ts";
import { WireClient } from "../../src/transporters/nats/wire/client.ts";
import { resolveNatsSettings } from "../../src/transporters/nats/options.ts";
import { within } from "./_util.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** Parse `chunks` in order; the operations seen, as text. */
function parse(chunks: Uint8Array[]): string[] {
  const seen: string[] = [];
  const parser = new Parser({
    msg: (sid, payload) => seen.push(`MSG ${sid} ${td.decode(payload)}`),
    ping: () => seen.push("PING"),
    pong: () => seen.push("PONG"),
    info: (info) => seen.push(`INFO ${info.server_id}`),
    err: (text) => seen.push(`ERR ${text}`),
  });
  for (const c of chunks) parser.feed(c);
  return seen;
}

Deno.test("wire Parser: the same operations however the stream is cut into reads", () => {
  const stream = te.encode(
    'INFO {"server_id":"S1","max_payload":1048576}\r\n' +
      "PING\r\n+OK\r\nMSG a.b 7 5\r\nhello\r\n" +
      "MSG a.b 12 _INBOX.x 0\r\n\r\n" +
      "msg x 3 reply 11\r\nhello world\r\npong\r\n-ERR 'Permissions Violation'\r\n",
  );
  const expected = [
    "INFO S1",
    "PING",
    "MSG 7 hello",
    "MSG 12 ",
    "MSG 3 hello world",
    "PONG",
    "ERR Permissions Violation",
  ];
  assert.deepEqual(parse([stream]), expected);
  for (let a = 1; a < stream.length; a++) {
    assert.deepEqual(
      parse([stream.subarray(0, a), stream.subarray(a)]),
      expected,
      `cut at ${a}`,
    );
    const b = Math.min(stream.length - 1, a + 7);
    if (b > a) {
      assert.deepEqual(
        parse([
          stream.subarray(0, a),
          stream.subarray(a, b),
          stream.subarray(b),
        ]),
        expected,
        `cut at ${a} and ${b}`,
      );
    }
  }
  // Byte by byte.
  assert.deepEqual(parse([...stream].map((b) => Uint8Array.of(b))), expected);
});

Deno.test("wire Parser: a payload in one read is a view of it, not a copy", () => {
  const chunk = te.encode("MSG s 1 3\r\nabc\r\n");
  let payload: Uint8Array | undefined;
  new Parser({
    msg: (_sid, p) => payload = p,
    ping() {},
    pong() {},
    info() {},
    err() {},
  }).feed(chunk);
  assert.equal(payload?.buffer, chunk.buffer);
  assert.equal(payload?.byteOffset, 11);
});

Deno.test("wire Parser: malformed input is a ProtocolError", () => {
  for (
    const bad of [
      "HELLO\r\n",
      "MSG a.b x 3\r\nabc\r\n",
      "MSG a.b 1\r\n",
      "MSG a.b 1 3\r\nabcd\r\n",
      "INFO {nope\r\n",
    ]
  ) {
    assert.throws(() => parse([te.encode(bad)]), ProtocolError, bad);
  }
});

/**
 * A TCP server speaking just enough NATS: INFO, PONG to the handshake's PING, then whatever
 * `after` does with the socket, per connection number.
 */
function fakeServer(
  after: (conn: Deno.Conn, n: number) => Promise<void>,
): { port: number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const tasks: Promise<void>[] = [];
  const accepting = (async () => {
    let n = 0;
    for await (const conn of listener) {
      conns.push(conn);
      const i = n++;
      tasks.push((async () => {
        try {
          await conn.write(
            te.encode('INFO {"server_id":"fake","max_payload":1024}\r\n'),
          );
          const buf = new Uint8Array(4096);
          let seen = "";
          while (!seen.includes("PING\r\n")) {
            const got = await conn.read(buf);
            if (got === null) return;
            seen += td.decode(buf.subarray(0, got));
          }
          await conn.write(te.encode("PONG\r\n"));
          await after(conn, i);
        } catch {
          // The client went away.
        }
      })());
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      listener.close();
      await accepting.catch(() => {});
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.all(tasks);
    },
  };
}

/** Read until the socket closes. */
async function drain(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(4096);
  while (await conn.read(buf) !== null) { /* discard */ }
}

/** A wire client on `port` with a listener that records; resolves once connected. */
async function recordingClient(
  port: number,
  options: Record<string, number> = {},
) {
  const events: string[] = [];
  const errors: Error[] = [];
  const waiters: { event: string; resolve: () => void }[] = [];
  const fire = (event: string) => {
    events.push(event);
    for (const w of waiters.splice(0)) {
      (w.event === event ? w.resolve : () => waiters.push(w))();
    }
  };
  const client = new WireClient(
    resolveNatsSettings({
      servers: `127.0.0.1:${port}`,
      reconnectTimeWait: 20,
      drainTimeout: 200, // the fake server does not answer the PING of a drain
      ...options,
    }),
  );
  await client.connect({
    onDisconnect: () => fire("disconnect"),
    onReconnect: () => fire("reconnect"),
    onError: (e) => {
      errors.push(e);
      fire("error");
    },
  });
  const until = (event: string) =>
    events.includes(event) ? Promise.resolve() : within(
      new Promise<void>((resolve) => waiters.push({ event, resolve })),
      5_000,
      event,
    );
  return { client, events, errors, until };
}

Deno.test("WireClient: garbage from the server is an error, then a reconnect", async () => {
  const server = fakeServer(async (conn, n) => {
    if (n === 0) await conn.write(te.encode("WHAT IS THIS\r\n"));
    await drain(conn);
  });
  const { client, events, errors, until } = await recordingClient(server.port);
  try {
    assert.equal(client.maxPayload, 1024);
    await until("reconnect");
    assert.deepEqual(events, ["error", "disconnect", "reconnect"]);
    assert.match(
      errors[0]!.message,
      /^NATS protocol error: unexpected "WHAT IS THIS"/,
    );
    assert.equal(client.connected, true);
  } finally {
    await client.disconnect();
    await server.close();
  }
});

Deno.test("WireClient: a server that stops answering pings is stale, and is left", async () => {
  // The first connection never answers the client's pings; the second does.
  const server = fakeServer(async (conn, n) => {
    const buf = new Uint8Array(4096);
    for (;;) {
      const got = await conn.read(buf);
      if (got === null) return;
      if (n > 0 && td.decode(buf.subarray(0, got)).includes("PING")) {
        await conn.write(te.encode("PONG\r\n"));
      }
    }
  });
  const { client, errors, until } = await recordingClient(server.port, {
    pingInterval: 30,
    maxPingOut: 2,
  });
  try {
    await until("reconnect");
    assert.match(errors[0]!.message, /^stale connection/);
    // Publishing works again; the answered pings keep the new connection.
    await client.publish("x", te.encode("1"));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(client.connected, true);
  } finally {
    await client.disconnect();
    await server.close();
  }
});

Deno.test("WireClient: -ERR on an open connection goes to onError", async () => {
  const server = fakeServer(async (conn) => {
    await conn.write(
      te.encode("-ERR 'Permissions Violation for Publish to \"x\"'\r\n"),
    );
    await drain(conn);
  });
  const { client, errors, until } = await recordingClient(server.port);
  try {
    await until("error");
    assert.equal(
      errors[0]!.message,
      'Permissions Violation for Publish to "x"',
    );
    assert.equal(client.connected, true);
  } finally {
    await client.disconnect();
    await server.close();
  }
});

Deno.test("WireClient: a server that never answers the handshake times out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) accepted.push(c); // INFO never comes
  })();
  try {
    const client = new WireClient(
      resolveNatsSettings({
        servers: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
        timeout: 200,
      }),
    );
    await assert.rejects(client.connect({}), /: timed out after 200 ms$/);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const c of accepted) c.close();
  }
});
