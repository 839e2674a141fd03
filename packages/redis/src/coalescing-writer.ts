import { Buffer } from "node:buffer";
import type { Command, Redis as IORedis } from "ioredis";

type Chunk = string | Buffer;

/**
 * Coalesces the commands sent on one ioredis connection within a tick into ONE socket write
 * (as node-redis does by default): with many callers in flight, a reply chunk resumes several of
 * them in the same tick and their next commands leave in one syscall instead of one each.
 *
 * What is deferred to the end of the tick is the HANDING of commands to ioredis, never their bytes
 * alone: ioredis matches replies to commands by the order of its command queue, and it writes
 * some commands of its own straight to the socket (the ready check's INFO, CLIENT SETNAME, …). So
 * each command enters ioredis's queue in the same synchronous step as its bytes reach the socket;
 * a command of ioredis's own can come before or after a batch, never inside it. (Deferring bytes
 * after the queue push let an INFO written in between take a caller's reply: an HGETALL answered
 * with the server's INFO text.)
 */
export class CoalescingWriter {
  readonly #conn: IORedis;
  #queued: Command[] = [];
  #scheduled = false;
  /** Bytes of the batch being handed over, or undefined outside {@link flush}. */
  #batch: Chunk[] | undefined;
  readonly #flush = () => this.flush();
  /** This writer as the `stream` argument of ioredis's `sendCommand` (it only calls `write`). */
  readonly #asStream = this as unknown as Parameters<IORedis["sendCommand"]>[1];

  constructor(conn: IORedis) {
    this.#conn = conn;
  }

  /** Sends `command` at the end of this tick with the others; resolves with its reply. */
  send(command: Command): Promise<unknown> {
    this.#queued.push(command);
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flush);
    }
    // ioredis types a command's promise as a Buffer or string promise; it is the raw reply.
    return command.promise as Promise<unknown>;
  }

  /**
   * ioredis's stream hook (`sendCommand(command, stream)` writes a command's bytes here): inside
   * {@link flush} the bytes join the batch; otherwise (ioredis resending a command from its offline
   * queue once the connection is ready) they go to the socket at once, as ioredis would write them.
   */
  write(chunk: Chunk): void {
    if (this.#batch) this.#batch.push(chunk);
    else this.#conn.stream.write(chunk);
  }

  /** Hands every queued command to ioredis and writes their bytes (also used before QUIT). */
  flush(): void {
    this.#scheduled = false;
    const commands = this.#queued;
    if (commands.length === 0) return;
    this.#queued = [];
    const batch: Chunk[] = [];
    this.#batch = batch;
    try {
      // A connection that is not ready puts them in its offline queue instead (no bytes here).
      for (const command of commands) this.#conn.sendCommand(command, this.#asStream);
    } finally {
      this.#batch = undefined;
    }
    if (batch.length === 0) return;
    const stream = this.#conn.stream;
    if (batch.length === 1) stream.write(batch[0] as Chunk);
    else if (batch.every((chunk) => typeof chunk === "string")) stream.write(batch.join(""));
    else
      stream.write(
        Buffer.concat(
          batch.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk)),
        ),
      );
  }
}
