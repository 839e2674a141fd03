import type { HotpathRedis } from "@hotpath/redis";
import { deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import type { RedisTransport } from "@hotpath/redis";
import { afterAll, beforeAll } from "vitest";
import { createRateLimiter, type CreateRateLimiterOptions } from "../src/index.ts";

/** The policies the limiter tests run against (small limits, one-minute windows). */
export const POLICIES = {
  fixed: { limit: 3, window: "1m", algorithm: "fixedWindow" },
  sliding: { limit: 3, window: "1m", algorithm: "slidingWindow" },
  bucket: { limit: 3, window: "1m", algorithm: "tokenBucket", refillRate: 1 },
  cached: { limit: 3, window: "1m", algorithm: "cachedFixedWindow" },
  wide: { limit: 10, window: "1m", algorithm: "tokenBucket" },
  burst: { limit: 3, window: "1m", algorithm: "tokenBucket" },
  daily: { limit: 5, window: "1d", algorithm: "fixedWindow" },
  minuteSliding: { limit: 4, window: "1m", algorithm: "slidingWindow" },
} as const satisfies CreateRateLimiterOptions["policies"];
/** The one-minute window of {@link POLICIES}, in ms. */
export const WINDOW_MS = 60_000;

/** What {@link useLimiterSuite} gives a suite: its Redis and limiters on fresh prefixes. */
export interface LimiterSuite {
  /** The suite's Redis (open between beforeAll and afterAll). */
  readonly redis: HotpathRedis;
  /** Every prefix handed out so far (deleted after the suite). */
  readonly prefixes: string[];
  /** A fresh prefix, deleted after the suite. */
  prefix: (label?: string) => string;
  /** A limiter over {@link POLICIES} on a fresh prefix. */
  make: (options?: Partial<CreateRateLimiterOptions>) => ReturnType<typeof createRateLimiter>;
}

/** Opens the test Redis of `transport` for the calling `describe` and cleans up after it. */
export function useLimiterSuite(transport: RedisTransport): LimiterSuite {
  let redis: HotpathRedis | undefined;
  const prefixes: string[] = [];
  const suite: LimiterSuite = {
    get redis() {
      if (!redis) throw new Error("the limiter suite's Redis is used outside its tests");
      return redis;
    },
    prefixes,
    prefix: (label = "rl") => {
      const prefix = uniquePrefix(`${label}-${transport}`);
      prefixes.push(prefix);
      return prefix;
    },
    make: (options = {}) =>
      createRateLimiter({
        redis: suite.redis,
        prefix: suite.prefix(),
        policies: POLICIES,
        ...options,
      }),
  };
  beforeAll(() => {
    redis = openTestRedis(transport);
  });
  afterAll(async () => {
    if (!redis) return;
    for (const prefix of prefixes) await deletePrefix(redis, prefix);
    await redis.close();
  });
  return suite;
}
