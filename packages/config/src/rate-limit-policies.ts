import { z } from "zod";
import { ConfigError } from "./errors.ts";
import { isDuration, parseDurationMs, type Duration } from "./ttl.ts";

/**
 * The algorithms a policy can use: those of `@upstash/ratelimit`, plus `slidingWindowLog`, an
 * exact sliding window (a sorted-set log of the requests of the last `window`) for policies that
 * must never admit more than `limit` in any window, such as the money path. `slidingWindow`
 * estimates the previous window's share and may admit more across a window boundary.
 */
export const RATE_LIMIT_ALGORITHMS = [
  "fixedWindow",
  "slidingWindow",
  "tokenBucket",
  "cachedFixedWindow",
  "slidingWindowLog",
] as const;
/** One of {@link RATE_LIMIT_ALGORITHMS}. */
export type RateLimitAlgorithm = (typeof RATE_LIMIT_ALGORITHMS)[number];

/** What a limiter does when Redis fails: `open` = local insurance limiter, `closed` = 503. */
export type FailureMode = "open" | "closed";

const durationSchema = z
  .string()
  .refine(isDuration, { message: 'expected a duration such as "10s", "1m", "1h"' });

/** Zod schema of one rate-limit policy. */
export const rateLimitPolicySchema = z
  .object({
    /** Requests (tokens) allowed per window. */
    limit: z.number().int().positive(),
    /** Window length (token bucket: refill interval). */
    window: durationSchema,
    algorithm: z.enum(RATE_LIMIT_ALGORITHMS),
    /** Token bucket only: tokens added per interval (defaults to `limit`). */
    refillRate: z.number().int().positive().optional(),
    failure: z.enum(["open", "closed"]).default("open"),
  })
  .strict();

/** A validated rate-limit policy. */
export type RateLimitPolicy = z.output<typeof rateLimitPolicySchema>;
/** A policy as written (failure mode optional). */
export type RateLimitPolicyInput = z.input<typeof rateLimitPolicySchema>;

/**
 * Validates a record of named policies; throws one {@link ConfigError} listing every bad field.
 * Adding a policy is one entry in the record.
 */
export function definePolicies<TName extends string>(
  policies: Record<TName, RateLimitPolicyInput>,
): Record<TName, RateLimitPolicy> {
  const result = z.record(z.string(), rateLimitPolicySchema).safeParse(policies);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      field: issue.path.map(String).join("."),
      message: issue.message,
    }));
    throw new ConfigError(
      "CONFIG_INVALID_POLICY",
      `Invalid rate-limit policies:\n${issues.map((i) => `  - ${i.field}: ${i.message}`).join("\n")}`,
      { issues },
    );
  }
  return result.data;
}

/** Named limiters of the product. */
export const NAMED_LIMITERS = definePolicies({
  API: { limit: 100, window: "1m", algorithm: "slidingWindow" },
  GENERATION: { limit: 10, window: "1m", algorithm: "tokenBucket" },
  AUTH: { limit: 5, window: "1m", algorithm: "fixedWindow", failure: "closed" },
  PUBLIC: { limit: 200, window: "1m", algorithm: "cachedFixedWindow" },
});

/**
 * Tiers that route buckets map onto. `strict` guards the money path (`tips:quick`) and logins:
 * an exact sliding window, so no burst across a window boundary gets one request more.
 */
export const RATE_LIMIT_TIERS = definePolicies({
  strict: { limit: 10, window: "1m", algorithm: "slidingWindowLog" },
  moderate: { limit: 60, window: "1m", algorithm: "slidingWindow" },
  generous: { limit: 120, window: "1m", algorithm: "fixedWindow" },
});
/** One of the keys of {@link RATE_LIMIT_TIERS}. */
export type RateLimitTier = keyof typeof RATE_LIMIT_TIERS;

/** Route buckets to tiers; anything not listed uses {@link DEFAULT_TIER}. */
export const BUCKET_MAP: Readonly<Record<string, RateLimitTier>> = {
  "auth:otp": "strict",
  "auth:login": "strict",
  "tips:quick": "strict",
  "streams:status": "generous",
};
/** The tier of a bucket that {@link BUCKET_MAP} does not list. */
export const DEFAULT_TIER: RateLimitTier = "moderate";

/** Per-plan quotas (checked beside the route tier on the money path): exact sliding windows. */
export const PLANS = definePolicies({
  free: { limit: 10, window: "60s", algorithm: "slidingWindowLog" },
  pro: { limit: 100, window: "60s", algorithm: "slidingWindowLog" },
});
/** One of the keys of {@link PLANS}. */
export type Plan = keyof typeof PLANS;

/** Resolves a route bucket (e.g. `"tips:quick"`) to its tier name and policy. */
export function resolveBucket(bucket: string): { tier: RateLimitTier; policy: RateLimitPolicy } {
  // Own entries only: a bucket named "__proto__" or "toString" must not reach Object.prototype.
  const tier = Object.hasOwn(BUCKET_MAP, bucket)
    ? (BUCKET_MAP[bucket] ?? DEFAULT_TIER)
    : DEFAULT_TIER;
  return { tier, policy: RATE_LIMIT_TIERS[tier] };
}

const LIMIT_PATTERN = /^\s*(\d+)\s*(?:\/|per)\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h|d|w)\s*$/i;

/**
 * Parses a limit written as text: `"5 per 1h"`, `"100/1m"`, `"10 / 30 s"`, `"60 per m"`.
 * @throws ConfigError CONFIG_INVALID_POLICY naming the input and the expected form.
 */
export function parseLimit(text: string): { limit: number; window: Duration } {
  const match = LIMIT_PATTERN.exec(text);
  const limit = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isSafeInteger(limit) || limit <= 0) {
    throw new ConfigError(
      "CONFIG_INVALID_POLICY",
      `Invalid limit "${text}": expected "<requests> per <duration>" or "<requests>/<duration>", e.g. "5 per 1h" or "100/1m".`,
    );
  }
  const window = `${match[2] ?? "1"}${(match[3] ?? "").toLowerCase()}` as Duration;
  try {
    parseDurationMs(window);
  } catch (error) {
    throw new ConfigError(
      "CONFIG_INVALID_POLICY",
      `Invalid limit "${text}": the window "${window}" must be positive.`,
      {
        cause: error,
      },
    );
  }
  return { limit, window };
}
