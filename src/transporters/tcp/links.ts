/**
 * The TCP connections of the transporter, on Deno's own sockets: the outgoing link to each node
 * (frames written in order, the frames of one tick joined in one write) and the read loop of a
 * connection (frames cut by a {@linkcode FrameParser}).
 *
 * Every node writes on its own outgoing connections only, as Moleculer's: a node answers on
 * the connection it opens to the caller, never on the caller's.
 *
 * @module
 */

import { type FramedType, FrameError, FrameParser, HEADER_SIZE, writeHeader } from "./frame.ts";

/** Longest wait for a connection to open (an address that drops SYNs would hold frames long). */
const CONNECT_TIMEOUT_MS = 10_000;

/** A frame waiting to be written: its type byte and payload. */
interface Queued {
  readonly type: number;
  readonly payload: Uint8Array;
}

/** A batch of frames and the promise of their write. */
interface Batch {
  readonly frames: Queued[];
  bytes: number;
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch nobody awaits (gossip) must not surface as an unhandled rejection.
  done.catch(() => {});
  return { frames: [], bytes: 0, done, resolve, reject };
}

/** Write all of `data`, however many writes it takes. */
async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await conn.write(at === 0 ? data : data.subarray(at));
}

/** What an outgoing link reports to its transporter. */
export interface LinkEvents {
  /** The frames sent first on a new connection (the HELLO), or none. */
  opening(): Queued | undefined;
  /** The remote side closed the connection (it stopped, or its process died). */
  ended(error: Error | undefined): void;
  /** The connection could not be opened, or a write failed. */
  failed(error: Error): void;
}

/**
 * The outgoing connection to one node. Opened on the first frame; frames are written in the
 * order they were sent; the frames sent in one tick go in one write.
 */
export class OutgoingLink {
  /** The node at the other end. */
  readonly nodeID: string;
  /** `Date.now()` of the last non-gossip frame, for closing the least recently used link. */
  lastUsed = Date.now();
  readonly #address: { hostname: string; port: number };
  readonly #events: LinkEvents;
  #conn: Deno.TcpConn | undefined;
  #batch: Batch | undefined;
  #writing = false;
  #closed = false;
  /** Resolves once the write loop is idle (for a flushing close). */
  #idle: Promise<void> = Promise.resolve();
  /** The loop that watches the connection end. */
  #watching: Promise<void> = Promise.resolve();

  /**
   * @param nodeID The node.
   * @param hostname Its address.
   * @param port Its TCP port.
   * @param events Where the link reports.
   */
  constructor(nodeID: string, hostname: string, port: number, events: LinkEvents) {
    this.nodeID = nodeID;
    this.#address = { hostname, port };
    this.#events = events;
  }

  /** The address the link connects to. */
  get address(): string {
    return `${this.#address.hostname}:${this.#address.port}`;
  }

  /** True once closed (by either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queue a frame.
   *
   * @param type The frame type byte.
   * @param payload The serialized packet; not copied.
   * @returns A promise that resolves once the frame is written to the socket.
   */
  send(type: number, payload: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new Error(`the connection to ${this.address} is closed`));
    }
    let batch = this.#batch;
    if (batch === undefined) {
      batch = this.#batch = newBatch();
      if (!this.#writing) this.#idle = this.#run();
    }
    batch.frames.push({ type, payload });
    batch.bytes += HEADER_SIZE + payload.length;
    return batch.done;
  }

  /**
   * Close the connection after the queued frames are written (at most `graceMs` later).
   * Idempotent.
   *
   * @param graceMs Longest wait for the queued frames.
   */
  async close(graceMs = 0): Promise<void> {
    if (graceMs > 0 && !this.#closed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#idle,
        new Promise<void>((r) => timer = setTimeout(r, graceMs)),
      ]);
      clearTimeout(timer);
    }
    this.#shut(new Error(`the connection to ${this.address} was closed`));
    // Not the write loop: it may still wait for a connect that the OS times out.
    await this.#watching;
  }

  #shut(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    const batch = this.#batch;
    this.#batch = undefined;
    batch?.reject(error);
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
  }

  /** Open the connection (the HELLO first), then write batches until none is queued. */
  async #run(): Promise<void> {
    this.#writing = true;
    // Let the rest of this tick queue its frames.
    await Promise.resolve();
    try {
      if (this.#conn === undefined) await this.#open();
      while (this.#batch !== undefined && !this.#closed) {
        const batch = this.#batch;
        this.#batch = undefined;
        const buf = new Uint8Array(batch.bytes);
        let at = 0;
        for (const f of batch.frames) {
          writeHeader(buf, at, f.type, f.payload.length);
          buf.set(f.payload, at + HEADER_SIZE);
          at += HEADER_SIZE + f.payload.length;
        }
        try {
          await writeAll(this.#conn!, buf);
        } catch (err) {
          batch.reject(err);
          throw err;
        }
        batch.resolve();
      }
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const wasOpen = !this.#closed;
      this.#shut(error);
      if (wasOpen) this.#events.failed(error);
    } finally {
      this.#writing = false;
    }
  }

  async #open(): Promise<void> {
    const connecting = Deno.connect({ ...this.#address, transport: "tcp" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`connecting to ${this.address} timed out`)),
        CONNECT_TIMEOUT_MS,
      );
    });
    let conn: Deno.TcpConn;
    try {
      conn = await Promise.race([connecting, late]);
    } catch (err) {
      // A connection that comes after all is closed at once.
      connecting.then((c) => c.close(), () => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (this.#closed) {
      conn.close();
      throw new Error(`the connection to ${this.address} was closed`);
    }
    this.#conn = conn;
    try {
      conn.setNoDelay(true);
      conn.setKeepAlive(true);
    } catch {
      // not fatal
    }
    const hello = this.#events.opening();
    if (hello) {
      const buf = new Uint8Array(HEADER_SIZE + hello.payload.length);
      writeHeader(buf, 0, hello.type, hello.payload.length);
      buf.set(hello.payload, HEADER_SIZE);
      await writeAll(conn, buf);
    }
    this.#watching = this.#watch(conn);
  }

  /** Nobody writes to us on this connection: a read returns only when it ends. */
  async #watch(conn: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(256);
    let error: Error | undefined;
    try {
      while ((await conn.read(buf)) !== null) {
        // Moleculer never answers on this connection; whatever comes is ignored.
      }
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    if (this.#closed) return;
    this.#shut(error ?? new Error(`the connection to ${this.address} ended`));
    this.#events.ended(error);
  }
}

/** What a connection's read loop reports. */
export interface ReadEvents {
  /** A frame arrived. */
  frame(type: FramedType, payload: Uint8Array): void;
  /** A frame of an unknown type was skipped. */
  unknown(typeByte: number): void;
  /** The stream broke the framing (closed), or ended in the middle of a frame. */
  invalid(error: Error): void;
}

/**
 * Read frames from a connection until it ends or breaks the framing; then close it.
 *
 * @param conn The connection.
 * @param maxPacketSize The largest frame accepted.
 * @param events Where frames and problems go.
 */
export async function readFrames(
  conn: Deno.Conn,
  maxPacketSize: number,
  events: ReadEvents,
): Promise<void> {
  const parser = new FrameParser(maxPacketSize, events.frame, events.unknown);
  const buf = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) {
        if (parser.pending > 0) {
          events.invalid(new Error(`the connection ended in the middle of a frame`));
        }
        break;
      }
      parser.push(buf.subarray(0, n));
    }
  } catch (err) {
    // A reset or a close of ours ends the loop quietly; only broken framing is reported.
    if (err instanceof FrameError) events.invalid(err);
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}
