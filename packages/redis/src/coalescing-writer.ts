import { Buffer } from "node:buffer";
import type { Redis as IORedis } from "ioredis";

type Chunk = string | Buffer;

/**
 * Coalesces every command written to one ioredis connection within a tick into ONE socket write
 * (as node-redis does by default): with many callers in flight, a reply chunk resumes several of
 * them in the same tick and their next commands leave in one syscall instead of one each.
 * ioredis writes to it through its `sendCommand(command, stream)` hook, in command order; ALL
 * writes of the executor go through it, so bytes and ioredis's reply queue stay in the same order.
 */
export class CoalescingWriter {
  readonly #conn: IORedis;
  #pending: Chunk[] = [];
  #target: IORedis["stream"] | undefined;
  #scheduled = false;
  readonly #flush = () => this.flush();

  constructor(conn: IORedis) {
    this.#conn = conn;
  }

  /** Called by ioredis with one command's bytes; sent at the end of the tick. */
  write(chunk: Chunk): void {
    const stream = this.#conn.stream;
    // A new socket (reconnect) must not receive bytes written for the previous one.
    if (this.#target !== stream) this.flush();
    this.#target = stream;
    this.#pending.push(chunk);
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flush);
    }
  }

  /** Writes what is pending now (also used before QUIT so it is not overtaken). */
  flush(): void {
    this.#scheduled = false;
    const chunks = this.#pending;
    const target = this.#target;
    if (chunks.length === 0) return;
    this.#pending = [];
    this.#target = undefined;
    // Bytes for a socket that has since closed are dropped: ioredis resends those commands.
    if (!target || target !== this.#conn.stream || target.destroyed || !target.writable) return;
    if (chunks.length === 1) target.write(chunks[0] as Chunk);
    else if (chunks.every((chunk) => typeof chunk === "string")) target.write(chunks.join(""));
    else
      target.write(
        Buffer.concat(
          chunks.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk)),
        ),
      );
  }
}
