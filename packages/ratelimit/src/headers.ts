import type { RateLimitResult } from "./types.ts";

/** Which header families to emit. */
export interface HeaderOptions {
  /** `X-RateLimit-Limit/Remaining/Reset` (reset in ms epoch). @default true */
  legacy?: boolean;
  /** IETF draft-10 `RateLimit-Policy` and `RateLimit`. @default true */
  ietf?: boolean;
}

/** Problem type URIs of draft-ietf-httpapi-ratelimit-headers-10. */
export const PROBLEM_TYPES = {
  quotaExceeded: "https://iana.org/assignments/http-problem-types#quota-exceeded",
  temporaryReducedCapacity:
    "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity",
} as const;

/** A policy name as a Structured-Field String (`"…"`, with `\` and `"` escaped, printable ASCII only). */
function sfString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, "?").replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
}

function secondsUntil(reset: number, now: number): number {
  return Math.max(0, Math.ceil((reset - now) / 1000));
}

/**
 * Response headers for a decision: `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
 * `X-RateLimit-Reset` (ms epoch) of the most restrictive policy; `Retry-After` (seconds) when
 * blocked; and the IETF draft-10 fields with one list member per policy:
 * `RateLimit-Policy: "burst";q=10;w=1, "daily";q=1000;w=86400` and
 * `RateLimit: "burst";r=0;t=1, "daily";r=990;t=51234`.
 */
export function getRateLimitHeaders(
  result: RateLimitResult,
  options: HeaderOptions = {},
  now = Date.now(),
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.legacy ?? true) {
    headers["X-RateLimit-Limit"] = String(result.limit);
    headers["X-RateLimit-Remaining"] = String(Math.max(0, result.remaining));
    headers["X-RateLimit-Reset"] = String(result.reset);
  }
  if ((options.ietf ?? true) && result.policies.length > 0) {
    headers["RateLimit-Policy"] = result.policies
      .map((p) => `${sfString(p.policy)};q=${p.limit};w=${Math.max(1, p.windowSeconds)}`)
      .join(", ");
    headers["RateLimit"] = result.policies
      .map(
        (p) =>
          `${sfString(p.policy)};r=${Math.max(0, p.remaining)};t=${secondsUntil(p.reset, now)}`,
      )
      .join(", ");
  }
  if (!result.success) headers["Retry-After"] = String(Math.max(1, result.retryAfter));
  return headers;
}

/** The JSON body of a 429: `{ error, message, retryAfter }`. */
export interface RateLimitExceededBody {
  error: "Rate limit exceeded";
  message: string;
  retryAfter: number;
}

/** The 429 body: `{ error: "Rate limit exceeded", message: "Too many requests. Please try again after <ISO time>", retryAfter }`. */
export function rateLimitExceededBody(
  result: RateLimitResult,
  now = Date.now(),
): RateLimitExceededBody {
  const retryAfter = Math.max(1, result.retryAfter);
  return {
    error: "Rate limit exceeded",
    message: `Too many requests. Please try again after ${new Date(now + retryAfter * 1000).toISOString()}`,
    retryAfter,
  };
}

/** An RFC 9457 problem document for a 429 (`application/problem+json`). */
export interface RateLimitProblem {
  type: string;
  title: string;
  status: 429;
  detail: string;
  "violated-policies": string[];
  retryAfter: number;
  instance?: string;
}

/**
 * The `application/problem+json` variant of the 429 body: type `…#quota-exceeded` with the
 * `violated-policies` extension member (draft-ietf-httpapi-ratelimit-headers-10).
 */
export function rateLimitProblem(
  result: RateLimitResult,
  options: { instance?: string } = {},
  now = Date.now(),
): RateLimitProblem {
  const body = rateLimitExceededBody(result, now);
  const violated = result.policies.filter((p) => !p.success).map((p) => p.policy);
  return {
    type: PROBLEM_TYPES.quotaExceeded,
    title: "Request cannot be satisfied as assigned quota has been exceeded",
    status: 429,
    detail: body.message,
    "violated-policies": violated.length > 0 ? violated : [result.policy],
    retryAfter: body.retryAfter,
    ...(options.instance === undefined ? {} : { instance: options.instance }),
  };
}
