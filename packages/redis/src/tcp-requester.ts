import { errors, type Requester, type UpstashRequest, type UpstashResponse } from "@upstash/redis";
import type { CommandExecutor } from "./executor.ts";
import { isRedisReplyError, type ItemReply, type PubSubEvent } from "./executor.ts";
import { RedisClientError } from "./errors.ts";
import { replyToValue, type RawReply } from "./reply.ts";

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

function toResult<TResult>(reply: RawReply): UpstashResponse<TResult> {
  return { result: replyToValue(reply) as TResult };
}

function toItem(reply: ItemReply): UpstashResponse<unknown> {
  return reply instanceof Error ? { error: reply.message } : { result: replyToValue(reply) };
}

function asCommands(body: unknown): unknown[][] {
  if (!Array.isArray(body) || body.length === 0 || !body.every(Array.isArray)) {
    throw new RedisClientError(
      "REDIS_BAD_COMMAND",
      "A pipeline must be a non-empty array of commands",
    );
  }
  return body as unknown[][];
}

// Errors of the command itself read as the REST client's 400 answer; connection failures and
// timeouts stay RedisClientErrors (REDIS_UNAVAILABLE / REDIS_TIMEOUT) for the caller to handle.
function asRequestError(error: unknown, body: unknown): Error {
  if (
    isRedisReplyError(error) ||
    (error instanceof RedisClientError &&
      error.code !== "REDIS_UNAVAILABLE" &&
      error.code !== "REDIS_TIMEOUT")
  ) {
    return new errors.UpstashError(`${error.message}, command was: ${JSON.stringify(body)}`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
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

  request<TResult = unknown>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
    const endpoint = req.path?.[0];
    // The hot path (single command): one promise step from the socket to the SDK.
    if (endpoint === undefined || endpoint === "") {
      return this.#executor.commandWith(req.body as unknown[], toResult<TResult>, (error) =>
        asRequestError(error, req.body),
      );
    }
    return this.requestEndpoint<TResult>(endpoint, req).catch((error: unknown) => {
      throw asRequestError(error, req.body);
    });
  }

  private async requestEndpoint<TResult>(
    endpoint: string,
    req: UpstashRequest,
  ): Promise<UpstashResponse<TResult>> {
    switch (endpoint) {
      case "pipeline":
        return (await this.#executor.pipeline(asCommands(req.body))).map(
          toItem,
        ) as UpstashResponse<TResult>;
      case "multi-exec":
        return (await this.#executor.multiExec(asCommands(req.body))).map(
          toItem,
        ) as UpstashResponse<TResult>;
      case "subscribe":
      case "psubscribe":
        return (await this.subscribe(
          endpoint,
          req.path?.[1] ?? "",
          req,
        )) as UpstashResponse<TResult>;
      default:
        throw new RedisClientError("REDIS_BAD_COMMAND", `Unknown endpoint /${endpoint}`);
    }
  }

  private async subscribe(
    kind: "subscribe" | "psubscribe",
    target: string,
    req: UpstashRequest,
  ): Promise<UpstashResponse<number>> {
    if (req.signal?.aborted) return { result: 1 };
    const subscription = await this.#executor.subscribe(kind, target, (event) =>
      req.onMessage?.(formatPubSubEvent(event)),
    );
    if (req.signal) {
      if (req.signal.aborted) await subscription.close();
      else req.signal.addEventListener("abort", () => void subscription.close(), { once: true });
    }
    return { result: 1 };
  }
}
