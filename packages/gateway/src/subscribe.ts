import type { IncomingMessage, ServerResponse } from "node:http";
import {
  formatPubSubEvent,
  type CommandExecutor,
  type PubSubEvent,
  type Subscription,
} from "@hotpath/redis/internal";
import { HttpError, nextSyncToken } from "./responses.ts";

/** Interval of the SSE keep-alive comment, in ms. */
const KEEPALIVE_MS = 15_000;
/** A client that lets this much unsent data pile up is too slow: its stream is ended. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** The open SSE streams of a gateway (per token), so close() can end them and a cap can hold. */
export class SubscriptionRegistry {
  readonly #open = new Set<() => Promise<void>>();
  readonly #perToken = new Map<string, number>();

  /** Registers a stream's close function; returns the unregister function (safe to call twice). */
  add(close: () => Promise<void>, token = ""): () => void {
    this.#open.add(close);
    this.#perToken.set(token, this.countOf(token) + 1);
    return () => {
      if (!this.#open.delete(close)) return;
      const left = this.countOf(token) - 1;
      if (left > 0) this.#perToken.set(token, left);
      else this.#perToken.delete(token);
    };
  }

  /** Number of open streams of one token. */
  countOf(token: string): number {
    return this.#perToken.get(token) ?? 0;
  }

  /** Ends every open stream and releases its Redis subscriber. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#open].map((close) => close()));
    this.#open.clear();
    this.#perToken.clear();
  }

  /** Number of open streams. */
  get size(): number {
    return this.#open.size;
  }
}

/** Decodes the channel or pattern of `/subscribe/<target>` (the SDK does not URL-encode it). */
export function decodeTarget(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Where a subscription is counted: the gateway's registry, the token, and its cap. */
export interface SubscriptionLimits {
  readonly registry: SubscriptionRegistry;
  readonly token: string;
  readonly maxPerToken: number;
}

/**
 * Serves `POST /subscribe/<channel>` or `/psubscribe/<pattern>` as Server-Sent Events in the
 * Upstash format (`data: message,<channel>,<payload>`). Headers go out once Redis confirmed
 * the subscription; the dedicated subscriber connection is released when the client goes away.
 */
export async function serveSubscription(
  req: IncomingMessage,
  res: ServerResponse,
  executor: CommandExecutor,
  kind: "subscribe" | "psubscribe",
  target: string,
  { registry, token, maxPerToken }: SubscriptionLimits,
): Promise<void> {
  if (target === "")
    throw new HttpError(
      400,
      `ERR /${kind}/ needs a ${kind === "subscribe" ? "channel" : "pattern"}`,
    );
  if (target.includes(","))
    throw new HttpError(
      400,
      `ERR the ${kind === "subscribe" ? "channel" : "pattern"} must not contain ","`,
    );
  if (registry.countOf(token) >= maxPerToken)
    throw new HttpError(
      429,
      `ERR this token already has ${maxPerToken} subscriptions open: close one, or raise the cap with --max-subscriptions-per-token (option maxSubscriptionsPerToken)`,
    );
  // The body ([]) is not needed; drain it so the request completes.
  req.resume();

  let subscription: Subscription | undefined;
  const timers: { keepalive?: NodeJS.Timeout } = {};
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    unregister();
    clearInterval(timers.keepalive);
    if (!res.writableEnded) res.end();
    await subscription?.close();
  };
  const unregister = registry.add(close, token);
  // "close" fires when the client aborts (or the response ends).
  res.once("close", () => void close());

  const onEvent = (event: PubSubEvent) => {
    if (closed) return;
    if (!res.headersSent) {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
        "upstash-sync-token": nextSyncToken(),
      });
      res.flushHeaders();
    }
    res.write(`data: ${formatPubSubEvent(event)}\n\n`);
    // Messages keep coming whether or not the client reads: never buffer without bound.
    if (res.writableLength > MAX_BUFFERED_BYTES) void close();
  };

  try {
    subscription = await executor.subscribe(kind, target, onEvent);
  } catch (error) {
    closed = true;
    unregister();
    throw error;
  }
  if (closed) {
    // The client left while Redis was confirming.
    await subscription.close();
    return;
  }
  timers.keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
  timers.keepalive.unref();
}
