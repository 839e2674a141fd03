import type { RangeKey } from "../model.ts";

/** Slowest refresh of the 1 h range: its 1-minute bars barely move within 15 s. */
export const HOUR_RANGE_MIN_REFRESH_MS = 15_000;
/** Slowest refresh of the 24 h range: 15-minute bars, and each read covers 1 440 minute buckets. */
export const DAY_RANGE_MIN_REFRESH_MS = 60_000;

/**
 * How often the time-series metrics of a range are re-read: the base poll interval for 15 min,
 * at least 15 s for 1 h and 60 s for 24 h. A 24 h read costs the API one Redis read per minute
 * bucket (1 440 per series), which on Upstash is billed per command; live feeds and leaderboards
 * keep the base interval.
 */
export function metricsRefreshMs(range: RangeKey, basePollMs: number): number {
  switch (range) {
    case "15m":
      return basePollMs;
    case "1h":
      return Math.max(basePollMs, HOUR_RANGE_MIN_REFRESH_MS);
    case "24h":
      return Math.max(basePollMs, DAY_RANGE_MIN_REFRESH_MS);
  }
}
