/**
 * The nodeID-conflict probe on its own: a starting node yields at once, a stopping one leaves
 * quietly, a running one checks the claim (INFO again, a PING only another live instance
 * answers) and then yields, stays, or ignores the claim when nobody answers in time; the probe's
 * PING answered for other instances; the routing of packets under our own nodeID.
 */

import assert from "node:assert/strict";
import { NodeConflict, type NodeConflictHost } from "../../src/transit/node_conflict.ts";
import type { PacketType } from "../../src/transit/packets.ts";

/** A host that records what the probe asks of transit. */
class Host implements NodeConflictHost {
  readonly nodeID = "api-1";
  ready = true;
  stopping = false;
  readonly sent: string[] = [];
  readonly pings: string[] = [];
  readonly pongs: { time: unknown; id: string }[] = [];
  readonly yielded: string[] = [];
  readonly warnings: { key: string; message: string }[] = [];
  readonly infos: string[] = [];
  readonly ownPings = new Set<string>();
  readonly logger = {
    info: (message: string) => void this.infos.push(message),
    warn: (message: string) => void this.warnings.push({ key: "logger", message }),
  };

  constructor(readonly instanceID = "5555") {}

  isReady(): boolean {
    return this.ready;
  }

  isStopping(): boolean {
    return this.stopping;
  }

  announce(): void {
    this.sent.push("INFO");
  }

  answerDiscover(): void {
    this.sent.push("INFO.api-1");
  }

  sendPing(id: string): void {
    this.sent.push("PING.api-1");
    this.pings.push(id);
  }

  sendPong(time: unknown, id: string): void {
    this.sent.push("PONG.api-1");
    this.pongs.push({ time, id });
  }

  isOwnPing(id: string): boolean {
    return this.ownPings.has(id);
  }

  yieldNodeID(other: string): void {
    this.yielded.push(other);
  }

  warn(key: string, message: string): void {
    this.warnings.push({ key, message });
  }

  /** The warnings' keys. */
  get warned(): string[] {
    return this.warnings.map((w) => w.key);
  }
}

/** A probe with the shortest wait (1 s: `discoverWaitTime` below it does not shorten it). */
const probe = (host: Host) => new NodeConflict(host, { discoverWaitTime: 10 });

Deno.test("NodeConflict: a starting node yields to the running instance at once", () => {
  const host = new Host();
  host.ready = false;
  const conflict = probe(host);
  conflict.onInfo("9999");
  assert.equal(conflict.found, "9999");
  assert.deepEqual(host.yielded, ["9999"]);
  assert.deepEqual(host.sent, [], "nothing announced, no probe");
  conflict.onInfo("8888");
  assert.deepEqual(host.yielded, ["9999"], "settled once");
});

Deno.test("NodeConflict: a stopping node lets its successor take over, without a word", () => {
  const host = new Host();
  host.stopping = true;
  const conflict = probe(host);
  conflict.onInfo("successor");
  assert.equal(conflict.found, "successor");
  assert.deepEqual(host.yielded, []);
  assert.deepEqual(host.sent, []);
  assert.match(host.infos[0]!, /A new instance \(successor\) took over the nodeID/);
});

Deno.test("NodeConflict: a claim without an instanceID is dropped unless the node is running", () => {
  for (const state of ["starting", "stopping"]) {
    const host = new Host();
    host.ready = state !== "starting";
    host.stopping = state === "stopping";
    const conflict = probe(host);
    conflict.onInfo(undefined);
    conflict.onInfo("");
    assert.equal(conflict.found, undefined, state);
    assert.deepEqual(host.warned, ["own INFO", "own INFO"], state);
    assert.deepEqual(host.sent, [], state);
  }
});

Deno.test("NodeConflict: a running node checks a claim, and yields when the smaller instanceID answers", () => {
  const host = new Host("5555");
  const conflict = probe(host);
  conflict.onInfo("1111");
  assert.equal(conflict.checking, true);
  assert.equal(conflict.found, undefined, "one INFO is no proof");
  assert.deepEqual(host.sent, ["INFO", "PING.api-1"], "our INFO again, then the probe");
  assert.deepEqual(host.warned, ["conflict check"]);
  const nonce = host.pings[0]!;
  assert.match(nonce, /^[0-9a-f-]{36}$/, "a random id nobody can guess");

  // Not the answer: another id, or our own PONG coming back.
  conflict.onPong({ id: "other", instanceID: "1111" });
  conflict.onPong({ id: nonce, instanceID: "5555" });
  conflict.onPong({ id: 7 });
  assert.equal(conflict.checking, true);

  conflict.onPong({ id: nonce, instanceID: "1111" });
  assert.equal(conflict.checking, false);
  assert.equal(conflict.found, "1111");
  assert.deepEqual(host.yielded, ["1111"]);
});

Deno.test("NodeConflict: a running node with the smaller instanceID stays, and says so again", () => {
  const host = new Host("1111");
  const conflict = probe(host);
  conflict.onInfo("9999");
  const nonce = host.pings[0]!;
  conflict.onPong({ id: nonce, instanceID: "9999" });
  assert.equal(conflict.found, undefined);
  assert.equal(conflict.checking, false);
  assert.deepEqual(host.yielded, []);
  assert.deepEqual(host.sent, ["INFO", "PING.api-1", "INFO"], "the other one must hear of it");
  assert.match(host.warnings.at(-1)!.message, /Instance '9999' also runs under this node's nodeID/);
});

Deno.test("NodeConflict: a PONG without an instanceID backs the claimed one", () => {
  const host = new Host("5555");
  const conflict = probe(host);
  conflict.onInfo("0000");
  conflict.onPong({ id: host.pings[0]! });
  assert.equal(conflict.found, "0000");
});

Deno.test("NodeConflict: a claim nobody backs up is ignored after max(1 s, discoverWaitTime)", async () => {
  const host = new Host();
  const conflict = probe(host);
  const t0 = performance.now();
  conflict.onInfo("forged");
  conflict.onInfo("forged-again"); // one check at a time: it only asks for one more INFO after
  conflict.onInfo(undefined);
  assert.deepEqual(host.pings.length, 1);
  while (conflict.checking) await new Promise((r) => setTimeout(r, 20));
  const waited = performance.now() - t0;
  assert.ok(waited >= 950, `gave up after ${Math.round(waited)} ms`);
  assert.equal(conflict.found, undefined);
  assert.deepEqual(host.yielded, []);
  assert.deepEqual(host.sent, ["INFO", "PING.api-1", "INFO"]);
  assert.deepEqual(host.warned, ["conflict check", "conflict unconfirmed"]);
  assert.match(host.warnings[1]!.message, /Ignored an INFO .* instance 'forged'/);
  // The probe is over: a late PONG changes nothing.
  conflict.onPong({ id: host.pings[0]!, instanceID: "0000" });
  assert.equal(conflict.found, undefined);
});

Deno.test("NodeConflict: an INFO with no instanceID is checked like any claim once running", () => {
  const host = new Host("5555");
  const conflict = probe(host);
  conflict.onInfo(null);
  assert.deepEqual(host.sent, ["INFO", "PING.api-1"]);
  conflict.onPong({ id: host.pings[0]! });
  assert.equal(conflict.found, "(none)");
});

Deno.test("NodeConflict.stop() abandons a check in progress", async () => {
  const host = new Host();
  const conflict = probe(host);
  conflict.onInfo("1111");
  conflict.stop();
  assert.equal(conflict.checking, false);
  await new Promise((r) => setTimeout(r, 20));
  // Its timer is gone (--trace-leaks would report it) and its nonce is no longer awaited.
  conflict.onPong({ id: host.pings[0]!, instanceID: "1111" });
  assert.equal(conflict.found, undefined);
});

Deno.test("NodeConflict.onPing(): another instance's probe is answered, our own pings are not", () => {
  const host = new Host();
  const conflict = probe(host);
  conflict.onPing({ id: "their-probe", time: 123 });
  assert.deepEqual(host.pongs, [{ time: 123, id: "their-probe" }]);

  host.ownPings.add("my-ping");
  conflict.onPing({ id: "my-ping", time: 1 });
  conflict.onInfo("1111");
  conflict.onPing({ id: host.pings[0]!, time: 2 }); // our probe, come back
  conflict.onPing({ id: 5, time: 3 });
  assert.equal(host.pongs.length, 1);

  conflict.stop();
  for (const [ready, stopping] of [[false, false], [true, true]] as const) {
    host.ready = ready;
    host.stopping = stopping;
    conflict.onPing({ id: "another", time: 4 });
  }
  assert.equal(host.pongs.length, 1, "only a running node answers");
});

Deno.test("NodeConflict.onOwnPacket() routes the packets sent under our own nodeID", () => {
  const host = new Host("5555");
  const conflict = probe(host);
  const own = (type: PacketType, p: Record<string, unknown> = {}) => conflict.onOwnPacket(type, p);
  // Our own broadcasts come back: dropped.
  assert.equal(own("INFO", { instanceID: "5555" }), false);
  assert.equal(own("HEARTBEAT"), false);
  assert.equal(own("DISCONNECT"), false);
  assert.deepEqual(host.sent, []);
  // Calls and events to ourselves are handled as any other.
  assert.equal(own("REQ"), true);
  assert.equal(own("RES"), true);
  assert.equal(own("EVENT"), true);
  // A newcomer's DISCOVER under our nodeID: answered on INFO.<nodeID>, unless we are leaving.
  assert.equal(own("DISCOVER"), false);
  assert.deepEqual(host.sent, ["INFO.api-1"]);
  host.stopping = true;
  own("DISCOVER");
  assert.deepEqual(host.sent, ["INFO.api-1"]);
  host.stopping = false;
  // A PING of another instance is answered; an INFO of another instance starts the check.
  assert.equal(own("PING", { id: "x", time: 9 }), false);
  assert.deepEqual(host.pongs, [{ time: 9, id: "x" }]);
  assert.equal(own("INFO", { instanceID: "1111" }), false);
  assert.equal(conflict.checking, true);
  assert.equal(own("PONG", { id: host.pings[0]!, instanceID: "1111" }), false);
  assert.equal(conflict.found, "1111");
});
