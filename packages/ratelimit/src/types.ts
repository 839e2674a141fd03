import type { FailureMode, RateLimitAlgorithm } from "@hotpath/config";

/** A policy ready to run: name, limit, window in ms, algorithm, failure mode. */
export interface ResolvedPolicy {
  /** Name used in keys, headers and metrics (e.g. `API`, `strict`, `plan:free`). */
  readonly name: string;
  /** Requests (tokens) per window; token bucket: the bucket size. */
  readonly limit: number;
  /** Window length in ms (token bucket: refill interval). */
  readonly windowMs: number;
  /** The algorithm (those of `@upstash/ratelimit`). */
  readonly algorithm: RateLimitAlgorithm;
  /** Token bucket: tokens added per interval (defaults to `limit`). */
  readonly refillRate: number;
  /** What happens when Redis fails: `open` = in-memory insurance limiter, `closed` = 503. */
  readonly failure: FailureMode;
}

/** How one policy judged a request. */
export interface PolicyOutcome {
  /** Policy name. */
  readonly policy: string;
  /** True when this policy lets the request through. */
  readonly success: boolean;
  /** The effective limit (after per-identifier overrides). */
  readonly limit: number;
  /** Quota left after this request. */
  readonly remaining: number;
  /** When more quota is available (ms epoch). */
  readonly reset: number;
  /** The policy's window in seconds (for `RateLimit-Policy: w=`). */
  readonly windowSeconds: number;
}

/** Why a decision came out as it did. */
export type RateLimitReason =
  /** Redis said yes. */
  | "allowed"
  /** Redis said no: over the limit. */
  | "limited"
  /** Blocked by the in-memory block cache, no Redis call. */
  | "cacheBlock"
  /** The identifier or IP is on the deny list. */
  | "denyList"
  /** Redis failed or timed out: the in-memory insurance limiter decided. */
  | "fallback";

/** The decision of {@link RateLimiter.limit}. */
export interface RateLimitResult {
  /** True when the request may proceed. */
  readonly success: boolean;
  /** Limit of the most restrictive policy. */
  readonly limit: number;
  /** Remaining quota of the most restrictive policy. */
  readonly remaining: number;
  /** When the most restrictive policy resets (ms epoch). */
  readonly reset: number;
  /** Seconds to wait before retrying (0 when allowed, >= 1 when blocked). */
  readonly retryAfter: number;
  /** Name of the most restrictive policy. */
  readonly policy: string;
  /** Why. */
  readonly reason: RateLimitReason;
  /** Every policy the request was held to (headers list them all). */
  readonly policies: readonly PolicyOutcome[];
  /** Set when `reason` is `denyList`: which value matched. */
  readonly denied?: "identifier" | "ip";
  /**
   * Background work (metrics flush, control refresh, cached-window sync). Already handed to
   * `waitUntil` when one was given, else already awaited; never rejects.
   */
  readonly pending: Promise<void>;
}

/** Something that happened inside the limiter, for logs and counters. */
export type RateLimitEvent =
  | { type: "fallback"; policy: string; identifier: string; success: boolean; error: string }
  | { type: "failClosed"; policy: string; identifier: string; error: string }
  | { type: "redisError"; operation: string; error: string }
  | { type: "denied"; identifier: string; by: "identifier" | "ip" };

/** A minimal structured logger (console, pino, … fit). */
export interface RateLimitLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error?(message: string, fields?: Record<string, unknown>): void;
}

/** Hands a promise to the runtime so it finishes after the response (Vercel, Cloudflare, …). */
export type WaitUntil = (promise: Promise<unknown>) => void;
