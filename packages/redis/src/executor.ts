import { Buffer } from "node:buffer";
import { Cluster, Redis as IORedis, ReplyError, type RedisOptions } from "ioredis";
import {
  clusterClient,
  clusterMultiExec,
  clusterPipeline,
  withLoadAnswer,
} from "./cluster-exec.ts";
import { clusterScan, scanCursorIndex } from "./cluster-scan.ts";
import { isClusterUrl, parseClusterUrl, type ClusterUrl } from "./cluster-url.ts";
import { normaliseCommand } from "./command.ts";
import { CoalescingWriter } from "./coalescing-writer.ts";
import { RedisClientError } from "./errors.ts";
import { rawCommand } from "./raw-command.ts";
import { IntegerReply, type RawReply } from "./reply.ts";
import { ScriptNormaliser, rewriteScriptCommand } from "./script-normaliser.ts";

/** Options of {@link CommandExecutor}. */
export interface CommandExecutorOptions {
  /**
   * `redis://` or `rediss://` URL of the server, or `redis+cluster://h1:p1,h2:p2` (`rediss+…`)
   * for a Redis Cluster: commands go to the node of their slot, a pipeline's commands each to
   * theirs (replies in request order), a MULTI to the node of its one slot.
   */
  url: string;
  /** Per-command timeout in ms (0 disables). @default 5000 */
  timeoutMs?: number;
  /**
   * Queue commands while (re)connecting instead of failing them at once. The API keeps it on
   * (short blips are absorbed, the timeout bounds the wait); the gateway turns it off so a
   * dead Redis answers 503 immediately. @default true
   */
  offlineQueue?: boolean;
  /** Connection name shown by CLIENT LIST. @default "hotpath" */
  connectionName?: string;
}

/** One Pub/Sub event, in the order the SSE protocol writes them. */
export type PubSubEvent =
  | { kind: "subscribe" | "psubscribe"; target: string; count: number }
  | { kind: "message"; channel: string; message: string }
  | { kind: "pmessage"; pattern: string; channel: string; message: string };

/** A live subscription; `close()` releases its dedicated connection. */
export interface Subscription {
  close(): Promise<void>;
}

/** One command's outcome in a pipeline or transaction: a reply, or the error Redis gave it. */
export type ItemReply = RawReply | Error;

/** True when an error was sent by Redis for one command (as opposed to a connection failure). */
export function isRedisReplyError(error: unknown): error is Error {
  return error instanceof ReplyError;
}

/**
 * Runs Upstash-shaped commands on a Redis server over TCP and returns raw RESP2 replies
 * (no client-side reply transformers). Shared by the in-process TCP transport and the gateway,
 * so single commands, pipelines, MULTI/EXEC and script normalisation are written once.
 */
export class CommandExecutor {
  readonly #client: IORedis | Cluster;
  /** A dedicated MULTI/EXEC connection (single server only; a cluster uses the slot's node). */
  readonly #transactions: IORedis | undefined;
  readonly #cluster: ClusterUrl | undefined;
  readonly #scripts = new ScriptNormaliser();
  readonly #options: CommandExecutorOptions;
  readonly #subscribers = new Set<IORedis | Cluster>();
  readonly #writers = new Map<IORedis | Cluster, CoalescingWriter>();

  constructor(options: CommandExecutorOptions) {
    this.#options = options;
    this.#cluster = isClusterUrl(options.url) ? parseClusterUrl(options.url) : undefined;
    this.#client = this.connect(options.connectionName ?? "hotpath");
    // A dedicated connection for MULTI/EXEC: the whole block is written in one go on it.
    this.#transactions = this.#cluster
      ? undefined
      : (this.connect(`${options.connectionName ?? "hotpath"}:tx`) as IORedis);
  }

  /** True when this executor talks to a Redis Cluster. */
  get isCluster(): boolean {
    return this.#cluster !== undefined;
  }

  /** `"ready"` when commands go straight to Redis; anything else means reconnecting or closed. */
  get status(): string {
    return this.#client.status;
  }

  /**
   * Runs one command. Redis errors are thrown as they are (check {@link isRedisReplyError});
   * connection failures and timeouts as {@link RedisClientError}.
   */
  command(input: readonly unknown[]): Promise<RawReply> {
    return this.commandWith(input, identity);
  }

  /**
   * {@link command} with the reply mapped by `convert` and failures by `mapError` in the same
   * promise step (the TCP requester's hot path: one hop from the socket to the SDK).
   */
  commandWith<T>(
    input: readonly unknown[],
    convert: (reply: RawReply) => T,
    mapError: (error: Error) => Error = identity,
  ): Promise<T> {
    let prepared: { args: string[]; loadAnswer?: string };
    try {
      prepared = this.prepare(input);
    } catch (error) {
      return Promise.reject(mapError(error instanceof Error ? error : new Error(String(error))));
    }
    const { loadAnswer } = prepared;
    const onReply =
      loadAnswer === undefined
        ? (reply: unknown) => convert(toRawReply(reply))
        : () => convert(Buffer.from(loadAnswer));
    return this.sent(this.#client, prepared.args).then(onReply, (error: unknown) => {
      throw mapError(isRedisReplyError(error) ? error : this.wrapFailure(error));
    });
  }

  /** Runs commands in order on the shared connection; one command's error does not stop the rest. */
  async pipeline(inputs: readonly (readonly unknown[])[]): Promise<ItemReply[]> {
    const prepared = inputs.map((input) => this.prepare(input));
    if (this.#client instanceof Cluster) {
      const outcomes = await clusterPipeline(this.#client, prepared, upperCaseName).catch(
        (error: unknown) => {
          throw this.wrapFailure(error);
        },
      );
      return outcomes.map(([error, reply], index) => {
        if (error && !isRedisReplyError(error)) throw this.wrapFailure(error);
        return (
          error ?? (withLoadAnswer(toRawReply(reply), prepared[index]?.loadAnswer) as RawReply)
        );
      });
    }
    const settled = await Promise.allSettled(
      this.sendAll(
        this.#client,
        prepared.map(({ args }) => args),
      ),
    );
    return settled.map((outcome, index) => this.itemOf(outcome, prepared[index]?.loadAnswer));
  }

  /**
   * Runs commands atomically (MULTI … EXEC) on the transaction connection. A command Redis
   * refuses at queue time aborts the whole transaction: that EXECABORT error is thrown.
   */
  async multiExec(inputs: readonly (readonly unknown[])[]): Promise<ItemReply[]> {
    const prepared = inputs.map((input) => this.prepare(input));
    const conn = this.#transactions;
    if (conn === undefined) {
      const replies = await clusterMultiExec(
        this.#client as Cluster,
        prepared,
        upperCaseName,
      ).catch((error: unknown) => {
        throw isRedisReplyError(error) ? error : this.wrapFailure(error);
      });
      if (replies === null) {
        throw new RedisClientError("REDIS_TRANSACTION_ABORTED", "EXECABORT Transaction discarded");
      }
      return replies.map(([error, reply], index) =>
        error
          ? error
          : (withLoadAnswer(toRawReply(reply), prepared[index]?.loadAnswer) as RawReply),
      );
    }
    // Queued in one go: the writer hands them to ioredis together, so nothing interleaves.
    const sent = this.sendAll(conn, [["MULTI"], ...prepared.map(({ args }) => args), ["EXEC"]]);
    const multi = sent[0] as Promise<RawReply>;
    const queued = sent.slice(1, -1);
    const exec = sent[sent.length - 1] as Promise<RawReply>;
    const [, execOutcome] = await Promise.all([
      Promise.allSettled([multi, ...queued]),
      exec.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    ]);
    if (!execOutcome.ok) throw this.wrapFailure(execOutcome.error);
    if (!Array.isArray(execOutcome.value)) {
      throw new RedisClientError("REDIS_TRANSACTION_ABORTED", "EXECABORT Transaction discarded");
    }
    return (execOutcome.value as readonly RawReply[]).map((reply, index) => {
      const loadAnswer = prepared[index]?.loadAnswer;
      return loadAnswer !== undefined && !(reply instanceof Error)
        ? Buffer.from(loadAnswer)
        : reply;
    });
  }

  /** Subscribes a dedicated connection to a channel or pattern and reports every event. */
  async subscribe(
    kind: "subscribe" | "psubscribe",
    target: string,
    onEvent: (event: PubSubEvent) => void,
  ): Promise<Subscription> {
    // Resubscribed here after a reconnect, not by ioredis: its own resubscribe leaves the
    // SUBSCRIBE's promise unhandled, so a connection closed before the reply (a subscription
    // closed while Redis comes back) was an unhandled rejection "Connection is closed.".
    const subscriber = this.connect(
      `${this.#options.connectionName ?? "hotpath"}:sub`,
      {
        enableOfflineQueue: true,
        commandTimeout: undefined,
        lazyConnect: true,
        autoResubscribe: false,
      },
      false,
    );
    this.#subscribers.add(subscriber);
    const close = async () => {
      if (!this.#subscribers.delete(subscriber)) return;
      subscriber.disconnect();
      await Promise.resolve();
    };
    subscriber.on("error", () => undefined);
    subscriber.on("message", (channel: string, message: string) =>
      onEvent({ kind: "message", channel, message }),
    );
    subscriber.on("pmessage", (pattern: string, channel: string, message: string) =>
      onEvent({ kind: "pmessage", pattern, channel, message }),
    );
    const subscribeOnce = () =>
      kind === "subscribe" ? subscriber.subscribe(target) : subscriber.psubscribe(target);
    try {
      await subscriber.connect();
      const count = await subscribeOnce();
      onEvent({ kind, target, count: Number(count) });
    } catch (error) {
      await close();
      throw this.wrapFailure(error);
    }
    // Every later "ready" is a reconnect: subscribe again; a failure waits for the next one.
    subscriber.on("ready", () => {
      if (this.#subscribers.has(subscriber)) subscribeOnce().catch(() => undefined);
    });
    return { close };
  }

  /** Closes every connection (waits for replies already asked for). */
  async close(): Promise<void> {
    await Promise.all(
      [this.#client, ...(this.#transactions ? [this.#transactions] : []), ...this.#subscribers].map(
        async (conn) => {
          try {
            // Commands still waiting for the end of the tick go out before QUIT.
            this.#writers.get(conn)?.flush();
            if (conn.status === "ready") await conn.quit();
            else conn.disconnect();
          } catch {
            conn.disconnect();
          }
        },
      ),
    );
    this.#subscribers.clear();
  }

  private connect(
    connectionName: string,
    overrides: RedisOptions = {},
    coalesce = true,
  ): IORedis | Cluster {
    const options: RedisOptions = {
      connectionName,
      stringNumbers: true,
      enableAutoPipelining: false,
      enableOfflineQueue: this.#options.offlineQueue ?? true,
      commandTimeout: (this.#options.timeoutMs ?? 5000) || undefined,
      maxRetriesPerRequest: 1,
      // Back within half a second of Redis returning (the breaker's probe then closes at once).
      retryStrategy: (times) => Math.min(50 * 2 ** times, 500),
      reconnectOnError: () => false,
      ...overrides,
    };
    const client = this.#cluster
      ? clusterClient(this.#cluster, options)
      : new IORedis(this.#options.url, options);
    // A cluster routes each command to its node's connection itself: no shared write hook.
    if (coalesce && client instanceof IORedis) {
      this.#writers.set(client, new CoalescingWriter(client));
    }
    // Connection errors surface on the commands; without a listener ioredis would log them.
    client.on("error", () => undefined);
    return client;
  }

  private prepare(input: readonly unknown[]): { args: string[]; loadAnswer?: string } {
    return rewriteScriptCommand(this.#scripts, normaliseCommand(input));
  }

  private send(conn: IORedis | Cluster, args: readonly string[]): Promise<RawReply> {
    return this.sent(conn, args).then(toRawReply, (error: unknown) => {
      throw isRedisReplyError(error) ? error : this.wrapFailure(error);
    });
  }

  /** Hands one command to ioredis; resolves with its raw (untransformed) reply. */
  private sent(conn: IORedis | Cluster, args: readonly string[]): Promise<unknown> {
    const name = upperCaseName(args[0] ?? "");
    if (conn instanceof Cluster) {
      // SCAN pages through every master with one composite cursor (see cluster-scan.ts).
      const cursorAt = scanCursorIndex(args);
      if (cursorAt !== undefined) return clusterScan(conn, args, cursorAt, name);
      return conn.sendCommand(rawCommand(args, name)) as Promise<unknown>;
    }
    const command = rawCommand(args, name);
    // Every command of the executor goes through the connection's coalescing writer.
    const writer = this.#writers.get(conn);
    // ioredis types sendCommand's result as unknown; it is the command's promise.
    return writer ? writer.send(command) : (conn.sendCommand(command) as Promise<unknown>);
  }

  /**
   * Sends several commands in order; the connection's {@link CoalescingWriter} puts them (and
   * whatever else this tick sends) into one socket write.
   */
  private sendAll(
    conn: IORedis | Cluster,
    argsList: readonly (readonly string[])[],
  ): Promise<RawReply>[] {
    return argsList.map((args) => this.send(conn, args));
  }

  private itemOf(
    outcome: PromiseSettledResult<RawReply>,
    loadAnswer: string | undefined,
  ): ItemReply {
    if (outcome.status === "rejected") {
      if (isRedisReplyError(outcome.reason)) return outcome.reason;
      throw outcome.reason;
    }
    return loadAnswer === undefined ? outcome.value : Buffer.from(loadAnswer);
  }

  private wrapFailure(error: unknown): Error {
    if (error instanceof RedisClientError || isRedisReplyError(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    const timedOut = /timed out/i.test(message);
    return new RedisClientError(
      timedOut ? "REDIS_TIMEOUT" : "REDIS_UNAVAILABLE",
      timedOut
        ? `Redis did not answer within ${this.#options.timeoutMs ?? 5000} ms`
        : `Redis is unavailable: ${message}`,
      { cause: error },
    );
  }
}

const identity = <T>(value: T): T => value;

const UPPER_NAMES = new Map<string, string>();

/** Upper-cased command name, memoised for the names clients actually send (bounded). */
function upperCaseName(name: string): string {
  let upper = UPPER_NAMES.get(name);
  if (upper === undefined) {
    upper = name.toUpperCase();
    if (UPPER_NAMES.size < 1000) UPPER_NAMES.set(name, upper);
  }
  return upper;
}

function toRawReply(value: unknown): RawReply {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "string") return new IntegerReply(value);
  if (typeof value === "number") return new IntegerReply(String(Math.trunc(value)));
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map(toRawReply);
  // Unreachable with raw replies (buffers, digit strings, arrays, errors); kept total for safety.
  return Buffer.from(JSON.stringify(value) ?? "");
}
