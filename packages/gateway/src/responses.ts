import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import {
  RedisClientError,
  isRedisReplyError,
  replyToJson,
  type ItemReply,
  type RawReply,
} from "@hotpath/redis/internal";

const syncPrefix = randomBytes(6).toString("hex");
let syncCounter = 0;

/** A fresh opaque `upstash-sync-token` value (differs on every call). */
export function nextSyncToken(): string {
  syncCounter += 1;
  return `${syncPrefix}-${syncCounter.toString(36)}`;
}

/** An error answered to the client as `{"error": message}` with an HTTP status. */
export class HttpError extends Error {
  override name = "HttpError";
  /** HTTP status code sent. */
  readonly status: number;
  /** Extra response headers (e.g. `Allow`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/** Writes a JSON body with the headers every gateway answer carries. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  extra?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "upstash-sync-token": nextSyncToken(),
    ...extra,
  });
  res.end(body);
}

/** `{"error": message}` as JSON text. */
export function errorBody(message: string): string {
  return `{"error":${JSON.stringify(message)}}`;
}

/** `{"result": …}` of one reply. */
export function resultBody(reply: RawReply, base64: boolean): string {
  return `{"result":${replyToJson(reply, base64)}}`;
}

/** The JSON array of a pipeline or transaction: `{"result"}` items, `{"error"}` for failed ones. */
export function itemsBody(items: readonly ItemReply[], base64: boolean): string {
  let body = "[";
  for (let index = 0; index < items.length; index += 1) {
    const item = items[index] as ItemReply;
    if (index > 0) body += ",";
    body +=
      item instanceof Error ? errorBody(item.message) : `{"result":${replyToJson(item, base64)}}`;
  }
  return `${body}]`;
}

/**
 * HTTP status and message for an error thrown while serving a request: 400 for what the
 * client sent or Redis refused, 503/504 when Redis is unreachable or slow, 500 otherwise.
 */
export function statusOf(error: unknown): {
  status: number;
  message: string;
  headers?: Readonly<Record<string, string>>;
} {
  if (error instanceof HttpError)
    return { status: error.status, message: error.message, headers: error.headers };
  if (isRedisReplyError(error)) return { status: 400, message: error.message };
  if (error instanceof RedisClientError) {
    switch (error.code) {
      case "REDIS_UNAVAILABLE":
        return { status: 503, message: error.message };
      case "REDIS_TIMEOUT":
        return { status: 504, message: error.message };
      case "REDIS_BAD_COMMAND":
      case "REDIS_COMMAND_REJECTED":
      case "REDIS_TRANSACTION_ABORTED":
      case "REDIS_CONFIG":
        return { status: 400, message: error.message };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, message: `ERR internal gateway error: ${message}` };
}
