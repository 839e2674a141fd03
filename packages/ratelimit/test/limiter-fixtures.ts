import type { CreateRateLimiterOptions } from "../src/index.ts";

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
