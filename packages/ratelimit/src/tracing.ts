import { withChildSpan } from "@hotpath/redis/tracing";
import { trace } from "@opentelemetry/api";
import type { LimitOptions } from "./limiter-options.ts";
import type { RateLimitResult } from "./types.ts";

/** Tracer of the rate limiter (instrumentation scope `@hotpath/ratelimit`). */
const tracer = trace.getTracer("@hotpath/ratelimit");
const NO_OPTIONS = {};

/**
 * Wraps a limiter's `limit` in a `ratelimit.limit` span whose Redis round trip is its child, with
 * the decision as attributes: `hotpath.ratelimit.allowed`, `.reason` (allowed, limited,
 * cacheBlock, fallback, denyList), `.policy` (the most restrictive), `.policies`, `.limit`,
 * `.remaining`, `.retry_after`. Never the identifier or the IP. Only inside a recorded trace: a
 * check outside any trace starts no span at all.
 */
export function tracedLimit(
  limit: (identifier: string, options?: LimitOptions) => Promise<RateLimitResult>,
): (identifier: string, options?: LimitOptions) => Promise<RateLimitResult> {
  return (identifier, options) =>
    withChildSpan(tracer, "ratelimit.limit", NO_OPTIONS, (span) => {
      if (!span) return limit(identifier, options);
      return limit(identifier, options).then((result) => {
        span.setAttributes({
          "hotpath.ratelimit.allowed": result.success,
          "hotpath.ratelimit.reason": result.reason,
          "hotpath.ratelimit.policy": result.policy,
          "hotpath.ratelimit.policies": result.policies.map((outcome) => outcome.policy),
          "hotpath.ratelimit.limit": result.limit,
          "hotpath.ratelimit.remaining": result.remaining,
          "hotpath.ratelimit.retry_after": result.retryAfter,
        });
        return result;
      });
    });
}
