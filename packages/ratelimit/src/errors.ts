import type { RateLimitResult } from "./types.ts";

/** Stable codes of {@link RateLimitError}. */
export type RateLimitErrorCode =
  | "RATELIMIT_EXCEEDED"
  | "RATELIMIT_UNAVAILABLE"
  | "RATELIMIT_INVALID_POLICY"
  | "RATELIMIT_UNKNOWN_POLICY"
  | "RATELIMIT_INVALID_INPUT"
  | "RATELIMIT_STORE_ERROR";

/** The one base error class of `@hotpath/ratelimit`: check `code`, the cause is kept. */
export class RateLimitError extends Error {
  override name = "RateLimitError";
  /** Stable machine-readable code. */
  readonly code: RateLimitErrorCode;

  constructor(code: RateLimitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.code = code;
  }
}

/**
 * Redis did not answer within the deadline (code `RATELIMIT_STORE_ERROR`). The command may still
 * have run: a write that timed out is never sent again.
 */
export class RateLimitTimeoutError extends RateLimitError {
  override name = "RateLimitTimeoutError";
  /** The deadline that passed (ms). */
  readonly timeoutMs: number;

  constructor(label: string, timeoutMs: number) {
    super("RATELIMIT_STORE_ERROR", `Redis did not answer ${label} within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Thrown by the middleware helper when a request is over its limit. Map it to HTTP 429
 * (tRPC: TOO_MANY_REQUESTS) with `Retry-After: retryAfter` and the `headers`.
 */
export class RateLimitExceededError extends RateLimitError {
  override name = "RateLimitExceededError";
  /** Seconds until a retry can succeed (>= 1). */
  readonly retryAfter: number;
  /** Limit of the most restrictive policy. */
  readonly limit: number;
  /** Remaining quota of the most restrictive policy (0 when blocked). */
  readonly remaining: number;
  /** When the most restrictive policy resets (ms epoch). */
  readonly reset: number;
  /** Name of the most restrictive policy. */
  readonly policy: string;
  /** The full decision. */
  readonly result: RateLimitResult;
  /** Response headers to send with the 429. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(result: RateLimitResult, headers: Readonly<Record<string, string>>) {
    super(
      "RATELIMIT_EXCEEDED",
      `Rate limit exceeded for policy "${result.policy}": retry after ${result.retryAfter} s`,
    );
    this.retryAfter = result.retryAfter;
    this.limit = result.limit;
    this.remaining = result.remaining;
    this.reset = result.reset;
    this.policy = result.policy;
    this.result = result;
    this.headers = headers;
  }
}

/**
 * Thrown when Redis failed (error or timeout) for a policy that fails closed (e.g. AUTH).
 * Map it to HTTP 503 with `Retry-After: retryAfter`.
 */
export class RateLimitUnavailableError extends RateLimitError {
  override name = "RateLimitUnavailableError";
  /** Seconds after which a retry is worth it. */
  readonly retryAfter: number;
  /** The fail-closed policy that could not be decided. */
  readonly policy: string;

  constructor(policy: string, retryAfter: number, options?: { cause?: unknown }) {
    super(
      "RATELIMIT_UNAVAILABLE",
      `Rate limiting is unavailable for policy "${policy}" (it fails closed): retry after ${retryAfter} s`,
      options,
    );
    this.retryAfter = retryAfter;
    this.policy = policy;
  }
}
