import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { canonicalHeaderName } from "./canonical-header.ts";
import type { MessageRecord } from "./message.ts";
import { signDelivery } from "./signing.ts";

/** The outcome of one HTTP delivery attempt. */
export interface DeliveryResult {
  ok: boolean;
  status?: number;
  header?: Record<string, string[]>;
  /** Response body, base64 (at most {@link MAX_KEPT_RESPONSE_BYTES}). */
  bodyBase64?: string;
  /** Network error or timeout, when there was no response. */
  error?: string;
  /** What the destination asked for with Retry-After, in ms. */
  retryAfterMs?: number;
  /**
   * The destination said retrying cannot help: status 489 with `Upstash-NonRetryable-Error: true`
   * (QStash's convention). The message fails at once: DLQ and failure callback, no retry.
   */
  nonRetryable?: boolean;
}

/** Largest response body kept for the DLQ and callbacks. */
export const MAX_KEPT_RESPONSE_BYTES = 256 * 1024;

function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Extra context for one attempt: attempt number, signing key, tenant-level headers. */
export interface AttemptContext {
  retried: number;
  signingKey: string;
  timeoutMs: number;
  nowMs: number;
  /** Extra Upstash-* headers (e.g. Upstash-Topic-Name). */
  extraHeaders?: Record<string, string>;
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends HTTP requests for deliveries over keep-alive connections (node:http/https: several times
 * cheaper in CPU than `fetch` on Node 20). Redirects are not followed.
 */
export class Deliverer {
  readonly #http = new HttpAgent({ keepAlive: true, maxSockets: 1024 });
  readonly #https = new HttpsAgent({ keepAlive: true, maxSockets: 1024 });

  #send(
    url: URL,
    method: string,
    headers: OutgoingHttpHeaders,
    body: Buffer | undefined,
    timeoutMs: number,
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const secure = url.protocol === "https:";
      const send = secure ? httpsRequest : httpRequest;
      const request = send(url, { method, headers, agent: secure ? this.#https : this.#http });
      const timer = setTimeout(() => {
        const error = new Error(`timed out after ${timeoutMs} ms`);
        error.name = "TimeoutError";
        request.destroy(error);
      }, timeoutMs);
      request.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.once("response", (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on("data", (chunk: Buffer) => {
          if (kept >= MAX_KEPT_RESPONSE_BYTES) return;
          chunks.push(chunk);
          kept += chunk.length;
        });
        response.once("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
        response.once("end", () => {
          clearTimeout(timer);
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).subarray(0, MAX_KEPT_RESPONSE_BYTES),
          });
        });
      });
      request.end(body);
    });
  }

  /**
   * Sends one attempt of `message` to its URL as QStash does: its method, forwarded headers,
   * `Upstash-Message-Id`, `Upstash-Retried`, `Upstash-Signature`, `User-Agent: Upstash-QStash`.
   * Never throws: every failure comes back as a result.
   */
  async deliver(message: MessageRecord, context: AttemptContext): Promise<DeliveryResult> {
    const body = Buffer.from(message.bodyBase64, "base64");
    const headers: OutgoingHttpHeaders = {};
    for (const [name, values] of Object.entries(message.header)) {
      headers[name] = values.length === 1 ? values[0] : values;
    }
    headers["User-Agent"] = "Upstash-QStash";
    headers["Upstash-Message-Id"] = message.messageId;
    headers["Upstash-Retried"] = String(context.retried);
    headers["Upstash-Caller-Ip"] = message.callerIp;
    if (message.scheduleId !== undefined) headers["Upstash-Schedule-Id"] = message.scheduleId;
    if (message.topicName !== undefined) headers["Upstash-Topic-Name"] = message.topicName;
    for (const [name, value] of Object.entries(context.extraHeaders ?? {})) headers[name] = value;
    headers["Upstash-Signature"] = await signDelivery({
      signingKey: context.signingKey,
      url: message.url,
      body,
      nowMs: context.nowMs,
    });
    const withBody = message.method !== "GET" && message.method !== "HEAD";
    if (withBody) headers["Content-Length"] = String(body.length);
    try {
      const response = await this.#send(
        new URL(message.url),
        message.method,
        headers,
        withBody ? body : undefined,
        context.timeoutMs,
      );
      const header: Record<string, string[]> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value === undefined) continue;
        header[canonicalHeaderName(name)] = Array.isArray(value) ? value : [value];
      }
      return {
        ok: response.status >= 200 && response.status < 300,
        status: response.status,
        header,
        bodyBase64: response.body.toString("base64"),
        retryAfterMs: retryAfterMs(response.headers["retry-after"], context.nowMs),
        nonRetryable:
          response.status === 489 &&
          String(response.headers["upstash-nonretryable-error"]).toLowerCase() === "true",
      };
    } catch (error) {
      const code = (error as { code?: string }).code;
      const reason =
        (error as Error).name === "TimeoutError"
          ? (error as Error).message
          : (code ?? (error as Error).message);
      return { ok: false, error: `delivery to ${message.url} failed: ${reason}` };
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
