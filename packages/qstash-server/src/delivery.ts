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
}

/** Largest response body kept for the DLQ and callbacks. */
export const MAX_KEPT_RESPONSE_BYTES = 256 * 1024;

function retryAfterMs(response: Response, nowMs: number): number | undefined {
  const value = response.headers.get("retry-after");
  if (value === null) return undefined;
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

/**
 * Sends one attempt of `message` to its URL as QStash does: its method, forwarded headers,
 * `Upstash-Message-Id`, `Upstash-Retried`, `Upstash-Signature`, `User-Agent: Upstash-QStash`.
 * Never throws: every failure comes back as a result.
 */
export async function deliverOnce(
  message: MessageRecord,
  context: AttemptContext,
): Promise<DeliveryResult> {
  const body = Buffer.from(message.bodyBase64, "base64");
  const headers = new Headers();
  for (const [name, values] of Object.entries(message.header)) {
    for (const value of values) headers.append(name, value);
  }
  headers.set("User-Agent", "Upstash-QStash");
  headers.set("Upstash-Message-Id", message.messageId);
  headers.set("Upstash-Retried", String(context.retried));
  headers.set("Upstash-Caller-Ip", message.callerIp);
  if (message.scheduleId !== undefined) headers.set("Upstash-Schedule-Id", message.scheduleId);
  if (message.topicName !== undefined) headers.set("Upstash-Topic-Name", message.topicName);
  for (const [name, value] of Object.entries(context.extraHeaders ?? {})) headers.set(name, value);
  headers.set(
    "Upstash-Signature",
    await signDelivery({
      signingKey: context.signingKey,
      url: message.url,
      body,
      nowMs: context.nowMs,
    }),
  );
  const withBody = message.method !== "GET" && message.method !== "HEAD";
  try {
    const response = await fetch(message.url, {
      method: message.method,
      headers,
      body: withBody ? body : undefined,
      redirect: "manual",
      signal: AbortSignal.timeout(context.timeoutMs),
    });
    const buffer = Buffer.from(await response.arrayBuffer());
    const header: Record<string, string[]> = {};
    response.headers.forEach((value, name) => {
      (header[canonicalHeaderName(name)] ??= []).push(value);
    });
    return {
      ok: response.status >= 200 && response.status < 300,
      status: response.status,
      header,
      bodyBase64: buffer.subarray(0, MAX_KEPT_RESPONSE_BYTES).toString("base64"),
      retryAfterMs: retryAfterMs(response, context.nowMs),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (error as Error).name === "TimeoutError"
        ? `timed out after ${context.timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { ok: false, error: `delivery to ${message.url} failed: ${reason}` };
  }
}
