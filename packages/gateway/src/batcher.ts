import { RedisClientError, type CommandExecutor, type ItemReply } from "@hotpath/redis/internal";
import { runPipeline } from "./commands.ts";

interface Pending {
  readonly commands: unknown[][];
  readonly resolve: (replies: ItemReply[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Merges the commands of the requests that arrive in the same event-loop turn into one
 * pipeline, so Redis sees one socket write per turn instead of one per request. Each request
 * still gets exactly its own replies, in order; the requests are independent (not atomic).
 */
export class CommandBatcher {
  readonly #executor: CommandExecutor;
  #queue: Pending[] = [];
  #scheduled = false;

  constructor(executor: CommandExecutor) {
    this.#executor = executor;
  }

  /** Runs one request's commands (a pipeline, or a single command as a one-item list). */
  run(commands: unknown[][]): Promise<ItemReply[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ commands, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After the poll phase: every request parsed in this turn is queued by then.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    if (batch.length === 1) {
      const only = batch[0] as Pending;
      runPipeline(this.#executor, only.commands).then(only.resolve, only.reject);
      return;
    }
    const all: unknown[][] = [];
    for (const pending of batch) for (const command of pending.commands) all.push(command);
    this.#executor.pipeline(all).then(
      (replies) => {
        let offset = 0;
        for (const pending of batch) {
          pending.resolve(replies.slice(offset, offset + pending.commands.length));
          offset += pending.commands.length;
        }
      },
      (error: unknown) => {
        if (
          error instanceof RedisClientError &&
          (error.code === "REDIS_BAD_COMMAND" || error.code === "REDIS_COMMAND_REJECTED")
        ) {
          // Refused before anything was sent: run each request on its own so only the bad one fails.
          for (const pending of batch)
            runPipeline(this.#executor, pending.commands).then(pending.resolve, pending.reject);
          return;
        }
        for (const pending of batch) pending.reject(error);
      },
    );
  }
}
