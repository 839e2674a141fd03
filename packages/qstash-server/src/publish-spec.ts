import { compileRetryDelay } from "./backoff.ts";
import { canonicalHeaderName } from "./canonical-header.ts";
import type { DestinationPolicy } from "./destination.ts";
import { parseDurationMs } from "./duration.ts";
import { badRequest } from "./errors.ts";
import type { MessageRecord, Redaction } from "./message.ts";

/** Request headers as lists of values, names lower-case. */
export type HeaderLists = Record<string, string[] | undefined>;

/** Everything a publish / enqueue / batch item / schedule asks for, checked. */
export interface PublishSpec {
  /** Message fields shared by every message this request creates. */
  template: Omit<MessageRecord, "messageId" | "url" | "createdAt" | "notBefore">;
  delayMs: number;
  /** Absolute first delivery time (Upstash-Not-Before), ms; wins over delayMs. */
  notBeforeMs?: number;
  deduplicationId?: string;
  contentBasedDeduplication: boolean;
  /** Upstash-Queue-Name (schedules). */
  queueName?: string;
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);
const MAX_RETRIES = 100;
const NAME = /^[A-Za-z0-9_.-]{1,200}$/;

function single(headers: HeaderLists, name: string): string | undefined {
  const values = headers[name];
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw badRequest(`${canonicalHeaderName(name)}: sent more than once`);
  return values[0];
}

function forwarded(headers: HeaderLists, prefix: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(headers)) {
    if (!name.startsWith(prefix) || values === undefined) continue;
    const stripped = name.slice(prefix.length);
    if (stripped.length === 0) throw badRequest(`${canonicalHeaderName(name)}: empty header name`);
    out[canonicalHeaderName(stripped)] = [...values];
  }
  return out;
}

function integer(value: string, field: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw badRequest(`${field}: "${value}" is not a whole number`);
  const n = Number(value.trim());
  if (n < min || n > max) throw badRequest(`${field}: must be between ${min} and ${max}`);
  return n;
}

/** Parses `parallelism=3, rate=5, period=1m` (each part optional). */
export function parseFlowControlValue(value: string): {
  parallelism?: number;
  rate?: number;
  period?: number;
} {
  const out: { parallelism?: number; rate?: number; period?: number } = {};
  for (const part of value.split(",")) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const [key, raw] = trimmed.split("=").map((s) => s.trim());
    if (raw === undefined || raw === "") {
      throw badRequest(`Upstash-Flow-Control-Value: "${trimmed}" is not key=value`);
    }
    if (key === "parallelism")
      out.parallelism = integer(raw, "Upstash-Flow-Control-Value parallelism", 1, 10_000);
    else if (key === "rate")
      out.rate = integer(raw, "Upstash-Flow-Control-Value rate", 1, 1_000_000);
    else if (key === "period")
      out.period = Math.max(
        1,
        Math.round(parseDurationMs(raw, "Upstash-Flow-Control-Value period") / 1000),
      );
    else
      throw badRequest(
        `Upstash-Flow-Control-Value: unknown key "${String(key)}" (parallelism, rate, period)`,
      );
  }
  return out;
}

function parseRedaction(value: string): Redaction {
  const redaction: Redaction = { body: false, allHeaders: false, headers: [] };
  for (const part of value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^header\[([!#$%&'*+.^_`|~0-9A-Za-z-]+)\]$/.exec(part);
    if (part === "body") redaction.body = true;
    else if (part === "header" || part === "headers") redaction.allHeaders = true;
    else if (match?.[1]) redaction.headers.push(canonicalHeaderName(match[1]));
    else throw badRequest(`Upstash-Redact-Fields: "${part}" is not body, header or header[Name]`);
  }
  return redaction;
}

/**
 * Reads the Upstash-* headers of a publish-like request into a {@link PublishSpec}.
 * @throws QStashServerError 400 naming the header at fault.
 */
export function parsePublishSpec(
  headers: HeaderLists,
  body: Buffer,
  context: { callerIp: string; destinations: DestinationPolicy },
): PublishSpec {
  const method = (single(headers, "upstash-method") ?? "POST").toUpperCase();
  if (!METHODS.has(method)) throw badRequest(`Upstash-Method: "${method}" is not an HTTP method`);
  const header = forwarded(headers, "upstash-forward-");
  const contentType = headers["content-type"];
  if (contentType?.[0] !== undefined) header["Content-Type"] = [contentType[0]];

  const retriesText = single(headers, "upstash-retries");
  const maxRetries =
    retriesText === undefined ? 3 : integer(retriesText, "Upstash-Retries", 0, MAX_RETRIES);
  const retryDelayExpression = single(headers, "upstash-retry-delay");
  if (retryDelayExpression !== undefined) compileRetryDelay(retryDelayExpression);

  const delayText = single(headers, "upstash-delay");
  const delayMs = delayText === undefined ? 0 : parseDurationMs(delayText, "Upstash-Delay");
  const notBeforeText = single(headers, "upstash-not-before");
  const notBeforeMs =
    notBeforeText === undefined
      ? undefined
      : integer(notBeforeText, "Upstash-Not-Before", 0, 32_503_680_000) * 1000;
  const timeoutText = single(headers, "upstash-timeout");
  const timeoutMs =
    timeoutText === undefined ? undefined : parseDurationMs(timeoutText, "Upstash-Timeout");
  if (timeoutMs !== undefined && timeoutMs <= 0)
    throw badRequest("Upstash-Timeout: must be positive");

  const callback = single(headers, "upstash-callback");
  if (callback !== undefined) context.destinations.checkUrl(callback, "Upstash-Callback");
  const failureCallback = single(headers, "upstash-failure-callback");
  if (failureCallback !== undefined)
    context.destinations.checkUrl(failureCallback, "Upstash-Failure-Callback");

  const flowControlKey = single(headers, "upstash-flow-control-key");
  const flowControlValue = single(headers, "upstash-flow-control-value");
  if (flowControlKey !== undefined && !NAME.test(flowControlKey)) {
    throw badRequest("Upstash-Flow-Control-Key: 1-200 letters, digits, _ . - only");
  }
  if (flowControlValue !== undefined && flowControlKey === undefined) {
    throw badRequest("Upstash-Flow-Control-Value: needs Upstash-Flow-Control-Key");
  }
  const flow = flowControlValue === undefined ? {} : parseFlowControlValue(flowControlValue);

  const labelText = single(headers, "upstash-label");
  const labels = labelText
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (labelText !== undefined && (labels === undefined || labels.length === 0)) {
    throw badRequest("Upstash-Label: empty label");
  }
  const redactText = single(headers, "upstash-redact-fields");
  const deduplicationId = single(headers, "upstash-deduplication-id");
  if (
    deduplicationId !== undefined &&
    (deduplicationId.length === 0 || deduplicationId.length > 500)
  ) {
    throw badRequest("Upstash-Deduplication-Id: 1-500 characters");
  }
  const contentBased = single(headers, "upstash-content-based-deduplication");
  if (contentBased !== undefined && contentBased !== "true" && contentBased !== "false") {
    throw badRequest("Upstash-Content-Based-Deduplication: true or false");
  }
  const queueName = single(headers, "upstash-queue-name");
  if (queueName !== undefined && !NAME.test(queueName)) {
    throw badRequest("Upstash-Queue-Name: 1-200 letters, digits, _ . - only");
  }
  return {
    template: {
      method,
      header,
      bodyBase64: body.toString("base64"),
      maxRetries,
      retryDelayExpression,
      timeoutMs,
      callback,
      failureCallback,
      callbackHeader: forwarded(headers, "upstash-callback-forward-"),
      failureCallbackHeader: forwarded(headers, "upstash-failure-callback-forward-"),
      callerIp: context.callerIp,
      flowControlKey,
      ...flow,
      label: labels?.[0],
      labels,
      redact: redactText === undefined ? undefined : parseRedaction(redactText),
    },
    delayMs,
    notBeforeMs,
    deduplicationId,
    contentBasedDeduplication: contentBased === "true",
    queueName,
  };
}
