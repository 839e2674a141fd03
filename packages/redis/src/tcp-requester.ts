import { errors, type Requester, type UpstashRequest, type UpstashResponse } from "@upstash/redis";
import type { CommandExecutor} from "./executor.ts";
import { isRedisReplyError, type ItemReply, type PubSubEvent } from "./executor.ts";
import { RedisClientError } from "./errors.ts";
import { replyToValue } from "./reply.ts";

/** Formats a Pub/Sub event as the `data:` payload of the Upstash SSE protocol. */
export function formatPubSubEvent(event: PubSubEvent): string {
  switch (event.kind) {
    case "subscribe":
    case "psubscribe":
      return `${event.kind},${event.target},${event.count}`;
    case "message":
      return `message,${event.channel},${event.message}`;
    case "pmessage":
      return `pmessage,${event.pattern},${event.channel},${event.message}`;
  }
}

function toItem(reply: ItemReply): UpstashResponse<unknown> {
  return reply instanceof Error ? { error: reply.message } : { result: replyToValue(reply) };
}

function asCommands(body: unknown): unknown[][] {
  if (!Array.isArray(body) || body.length === 0 || !body.every(Array.isArray)) {
    throw new RedisClientError("REDIS_BAD_COMMAND", "A pipeline must be a non-empty array of commands");
  }
  return body as unknown[][];
}

/**
 * An `@upstash/redis` `Requester` that runs the REST API's requests in-process over TCP:
 * the same paths (`/`, `/pipeline`, `/multi-exec`, `/subscribe/<ch>`, `/psubscribe/<p>`) and the
 * same result shapes, with no HTTP hop. Errors look as they do over REST.
 */
export class TcpRequester implements Requester {
  readonly #executor: CommandExecutor;

  constructor(executor: CommandExecutor) {
    this.#executor = executor;
  }

  async request<TResult = unknown>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
    const [endpoint, target] = req.path ?? [];
    try {
      switch (endpoint) {
        case undefined:
        case "":
          return { result: replyToValue(await this.#executor.command(req.body as unknown[])) as TResult };
        case "pipeline":
          return (await this.#executor.pipeline(asCommands(req.body))).map(toItem) as UpstashResponse<TResult>;
        case "multi-exec":
          return (await this.#executor.multiExec(asCommands(req.body))).map(toItem) as UpstashResponse<TResult>;
        case "subscribe":
        case "psubscribe":
          return (await this.subscribe(endpoint, target ?? "", req)) as UpstashResponse<TResult>;
        default:
          throw new RedisClientError("REDIS_BAD_COMMAND", `Unknown endpoint /${endpoint}`);
      }
    } catch (error) {
      if (isRedisReplyError(error) || (error instanceof RedisClientError && error.code !== "REDIS_UNAVAILABLE" && error.code !== "REDIS_TIMEOUT")) {
        // Same text as the REST client produces for a 400 answer.
        throw new errors.UpstashError(`${error.message}, command was: ${JSON.stringify(req.body)}`, { cause: error });
      }
      throw error;
    }
  }

  private async subscribe(
    kind: "subscribe" | "psubscribe",
    target: string,
    req: UpstashRequest,
  ): Promise<UpstashResponse<number>> {
    if (req.signal?.aborted) return { result: 1 };
    const subscription = await this.#executor.subscribe(kind, target, (event) => req.onMessage?.(formatPubSubEvent(event)));
    if (req.signal) {
      if (req.signal.aborted) await subscription.close();
      else req.signal.addEventListener("abort", () => void subscription.close(), { once: true });
    }
    return { result: 1 };
  }
}
