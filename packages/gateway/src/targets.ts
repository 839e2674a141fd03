import { setTimeout as sleep } from "node:timers/promises";
import { CommandExecutor } from "@hotpath/redis/internal";
import { CommandBatcher } from "./batcher.ts";

/** What a token grants: its Redis executor and the batcher in front of it. */
export interface Target {
  readonly executor: CommandExecutor;
  readonly batcher: CommandBatcher;
}

/** Maps bearer tokens to the executor of their Redis; one executor per distinct Redis URL. */
export class TokenTargets {
  readonly #byToken = new Map<string, Target>();
  readonly #byUrl = new Map<string, Target>();
  readonly #commandTimeoutMs: number;

  constructor(tokens: ReadonlyMap<string, string>, commandTimeoutMs: number) {
    this.#commandTimeoutMs = commandTimeoutMs;
    for (const [token, url] of tokens) this.#byToken.set(token, this.executorFor(url));
  }

  /** The target a token grants, or undefined for an unknown token. */
  resolve(token: string): Target | undefined {
    return this.#byToken.get(token);
  }

  /**
   * Waits (at most `timeoutMs`) until every Redis answers on both its shared and its
   * transaction connection. Without an offline queue a command sent before the first connect
   * would fail, so the gateway warms up before it listens. A Redis that is down does not stop
   * the start: its requests answer 503 until it is back.
   */
  async warmUp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      [...this.#byUrl.values()].map(async ({ executor }) => {
        while (Date.now() < deadline) {
          try {
            await executor.command(["ping"]);
            await executor.multiExec([["ping"]]);
            return;
          } catch {
            await sleep(10);
          }
        }
      }),
    );
  }

  /** Closes every Redis connection. */
  async close(): Promise<void> {
    await Promise.all([...this.#byUrl.values()].map(({ executor }) => executor.close()));
  }

  private executorFor(url: string): Target {
    let target = this.#byUrl.get(url);
    if (!target) {
      const executor = new CommandExecutor({
        url,
        timeoutMs: this.#commandTimeoutMs,
        // A dead Redis must answer 503 at once, not after the timeout.
        offlineQueue: false,
        connectionName: "hotpath-gateway",
      });
      target = { executor, batcher: new CommandBatcher(executor) };
      this.#byUrl.set(url, target);
    }
    return target;
  }
}
