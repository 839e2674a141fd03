import { getRateLimitHeaders, RateLimitExceededError, type RateLimiter } from "@hotpath/ratelimit";
import { measureOperation } from "../latency/api-latency.ts";
import type { ApiLatency, ApiRateLimiter } from "../trpc/deps.ts";

/**
 * Adapts an @hotpath/ratelimit limiter to the router: a name the registry knows (`AUTH`,
 * `strict`…) is used as a policy, anything else as a route bucket (`tips:quick`) resolved
 * through the bucket map. Headers come from the package's `getRateLimitHeaders`. Each check is
 * timed as the `ratelimit_check` operation group when `latency` is given.
 */
export function createApiRateLimiter(
  limiter: RateLimiter,
  latency?: Pick<ApiLatency, "operation">,
): ApiRateLimiter {
  return {
    async limit(bucket, identity, waitUntil, plan) {
      const selector = {
        ...(limiter.registry.policies.has(bucket) ? { policy: bucket } : { bucket }),
        ...(plan ? { plan } : {}),
      };
      const result = await measureOperation(latency, "ratelimit_check", () =>
        limiter.limit(identity.identifier, {
          ...selector,
          ...(identity.ip ? { ip: identity.ip } : {}),
          waitUntil,
        }),
      );
      const headers = getRateLimitHeaders(result);
      return {
        success: result.success,
        limit: result.limit,
        remaining: result.remaining,
        reset: result.reset,
        retryAfter: result.retryAfter,
        policy: result.policy,
        headers,
        ...(result.success ? {} : { error: new RateLimitExceededError(result, headers) }),
      };
    },
  };
}
