import { errors, type Requester, type UpstashRequest, type UpstashResponse } from "@upstash/redis";
import { RedisClientError } from "./errors.ts";
import { isReadOnlyRequest } from "./read-only.ts";

/** Options of {@link RestRequester}. */
export interface RestRequesterOptions {
  /** Base URL of the Upstash REST API (or the gateway), e.g. `https://eu1-x.upstash.io`. */
  url: string;
  /** Bearer token. */
  token: string;
  /** Per-request timeout in ms (0 disables). */
  timeoutMs: number;
  /**
   * How many more times a read-only request is sent when the connection failed before an answer
   * arrived. Writes are never sent twice: the first one may have run. @default 2
   */
  readRetries?: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

// Node's Buffer when the runtime has one (fastest there); elsewhere (workerd, browsers) the web
// platform's atob + TextDecoder, so this module imports nothing from node:*.
const nodeBuffer = (
  globalThis as {
    Buffer?: { from(value: string, encoding: "base64"): { toString(encoding: "utf8"): string } };
  }
).Buffer;
const utf8 = new TextDecoder();

function decodeBase64(value: string): string {
  if (nodeBuffer) return nodeBuffer.from(value, "base64").toString("utf8");
  const binary = atob(value);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return utf8.decode(bytes);
}

function fromBase64(value: string): string {
  return value.length % 4 === 0 && BASE64.test(value) ? decodeBase64(value) : value;
}

/** Decodes a base64-encoded REST result as the SDK's own HTTP client does (top-level `OK` is plain). */
function decodeResult(raw: unknown, topLevel = true): unknown {
  if (typeof raw === "string") return topLevel && raw === "OK" ? raw : fromBase64(raw);
  if (Array.isArray(raw)) {
    return raw.map((item: unknown) =>
      typeof item === "string"
        ? fromBase64(item)
        : Array.isArray(item)
          ? item.map((nested: unknown) => decodeResult(nested, true))
          : item,
    );
  }
  // Numbers and an absent result (an item that failed) stay as they are; other objects are null.
  return raw !== null && typeof raw === "object" ? null : raw;
}

/** Failures where no answer arrived at all: the only ones a read is sent again for. */
const unanswered = new WeakSet<Error>();

type ResponseItem = { result?: unknown; error?: string };

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause instanceof Error && cause.message ? `${message} (${cause.message})` : message;
}

/**
 * An `@upstash/redis` `Requester` speaking the Upstash REST API over `fetch`: `/`, `/pipeline`,
 * `/multi-exec` and the SSE `/subscribe` endpoints, base64-encoded results, read-your-writes
 * sync tokens. Unlike the SDK's own client it never sends a write twice; failures are typed:
 * a connection failure or a 502/503 is {@link RedisClientError} `REDIS_UNAVAILABLE`, a timeout or
 * 504 `REDIS_TIMEOUT`, and an error of the command itself the SDK's `UpstashError`.
 */
export class RestRequester implements Requester {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #readRetries: number;
  #syncToken = "";

  constructor(options: RestRequesterOptions) {
    this.#base = options.url.replace(/\/+$/, "");
    this.#headers = {
      "content-type": "application/json",
      authorization: `Bearer ${options.token}`,
      "upstash-encoding": "base64",
    };
    this.#timeoutMs = options.timeoutMs;
    this.#readRetries = options.readRetries ?? 2;
  }

  async request<TResult = unknown>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
    const retries = isReadOnlyRequest(req) ? this.#readRetries : 0;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.send<TResult>(req);
      } catch (error) {
        if (!unanswered.has(error as Error) || attempt >= retries) throw error;
      }
    }
  }

  private async send<TResult>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
    const headers: Record<string, string> = { ...this.#headers, ...lowerCased(req.headers) };
    if (this.#syncToken) headers["upstash-sync-token"] = this.#syncToken;
    const stream = headers.accept === "text/event-stream";
    const timeout =
      this.#timeoutMs > 0 && !stream ? AbortSignal.timeout(this.#timeoutMs) : undefined;
    const signal = req.signal && typeof req.signal !== "function" ? req.signal : undefined;
    const url = [this.#base, ...(req.path ?? [])].join("/");
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify(req.body),
        cache: "no-store",
        keepalive: true,
        signal: signal && timeout ? AbortSignal.any([signal, timeout]) : (signal ?? timeout),
      });
    } catch (error) {
      if (signal?.aborted) return { result: (signal.reason ?? "Aborted") as TResult };
      throw this.failure(error, timeout, true);
    }
    this.#syncToken = response.headers.get("upstash-sync-token") ?? this.#syncToken;
    if (stream && response.ok && response.body && req.onMessage) {
      void readEvents(response.body, req.onMessage);
      return { result: 1 as TResult };
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.failure(error, timeout, false);
    }
    const body = parseBody(text, response.status);
    if (!response.ok) throw this.refusal(response.status, body as ResponseItem, req.body);
    if (Array.isArray(body)) {
      return (body as ResponseItem[]).map(({ result, error }) => ({
        result: decodeResult(result),
        error,
      })) as UpstashResponse<TResult>;
    }
    const item = body as ResponseItem;
    return { result: decodeResult(item.result) as TResult, error: item.error };
  }

  private failure(error: unknown, timeout: AbortSignal | undefined, beforeAnswer: boolean): Error {
    if (timeout?.aborted) {
      return new RedisClientError(
        "REDIS_TIMEOUT",
        `Redis did not answer within ${this.#timeoutMs} ms`,
        { cause: error },
      );
    }
    const failure = new RedisClientError(
      "REDIS_UNAVAILABLE",
      `Redis is unavailable: ${reasonOf(error)}`,
      { cause: error },
    );
    if (beforeAnswer) unanswered.add(failure);
    return failure;
  }

  private refusal(status: number, body: ResponseItem, command: unknown): Error {
    const message = body?.error ?? `HTTP ${status}`;
    if (status === 502 || status === 503) {
      return new RedisClientError("REDIS_UNAVAILABLE", `Redis is unavailable: ${message}`);
    }
    if (status === 504) return new RedisClientError("REDIS_TIMEOUT", message);
    return new errors.UpstashError(`${message}, command was: ${JSON.stringify(command)}`);
  }
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function parseBody(text: string, status: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new errors.UpstashError(
      `The REST API answered HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`,
      { cause: error },
    );
  }
}

/** Reads a Server-Sent Events body and hands every `data:` line to `onMessage`. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onMessage: (data: string) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("data: ")) onMessage(line.slice(6));
    }
  } catch {
    // The stream ends when the subscriber unsubscribes (abort) or the server goes away.
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
