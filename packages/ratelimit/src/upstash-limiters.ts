import { Ratelimit, type Duration } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import { policyPrefix } from "./keys.ts";
import type { ResolvedPolicy } from "./types.ts";

/**
 * `@upstash/ratelimit` instances, one per (policy, effective limit): overridden identifiers get
 * their own instance with the same key prefix, so they count on the same keys with a higher
 * limit. Upstream's own timeout, analytics and deny list are off (this package does them);
 * its ephemeral cache is on only for `cachedFixedWindow`, which needs it.
 */
export class UpstashLimiters {
  readonly #redis: Redis;
  readonly #app: string;
  readonly #instances = new Map<string, Ratelimit>();
  readonly #cachedWindows = new Map<string, number>();

  constructor(redis: Redis, app: string) {
    this.#redis = redis;
    this.#app = app;
  }

  /** The upstream limiter for a policy with its effective limit. */
  get(policy: ResolvedPolicy): Ratelimit {
    // Upstream never drops old windows from this map: losing local counts only costs a Redis call.
    if (this.#cachedWindows.size > 10_000) this.#cachedWindows.clear();
    const id = `${policy.name}|${policy.limit}|${policy.refillRate}`;
    let instance = this.#instances.get(id);
    if (!instance) {
      if (this.#instances.size > 1000) this.#instances.clear();
      const window = `${policy.windowMs} ms` as Duration;
      const limiter =
        policy.algorithm === "fixedWindow"
          ? Ratelimit.fixedWindow(policy.limit, window)
          : policy.algorithm === "slidingWindow"
            ? Ratelimit.slidingWindow(policy.limit, window)
            : policy.algorithm === "tokenBucket"
              ? Ratelimit.tokenBucket(policy.refillRate, window, policy.limit)
              : Ratelimit.cachedFixedWindow(policy.limit, window);
      instance = new Ratelimit({
        redis: this.#redis,
        limiter,
        prefix: policyPrefix(this.#app, policy),
        timeout: 0,
        analytics: false,
        enableProtection: false,
        enableTelemetry: false,
        ephemeralCache: policy.algorithm === "cachedFixedWindow" ? this.#cachedWindows : false,
      });
      this.#instances.set(id, instance);
    }
    return instance;
  }

  /** Forgets the local counts `cachedFixedWindow` keeps for an identifier. */
  forgetCached(keyIdentifier: string): void {
    for (const key of [...this.#cachedWindows.keys()]) if (key.includes(`:${keyIdentifier}:`) || key.endsWith(`:${keyIdentifier}`)) this.#cachedWindows.delete(key);
  }
}
