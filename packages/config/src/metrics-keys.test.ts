import { describe, expect, it } from "vitest";
import {
  ConfigError,
  METRICS_GROUPS,
  METRICS_HOUR_RETENTION_SECONDS,
  METRICS_MINUTE_RETENTION_SECONDS,
  hourBucket,
  hourBucketStartMs,
  metricsField,
  metricsKeyPattern,
  metricsMinuteKey,
  metricsTopKey,
  minuteBucket,
  minuteBucketStartMs,
  minuteBuckets,
  parseMetricsField,
} from "./index.ts";

const AT = Date.UTC(2026, 0, 1, 0, 1, 30); // 00:01:30 UTC

describe("metrics buckets", () => {
  it("minute and hour buckets are numbers of whole minutes / hours since the epoch", () => {
    expect(minuteBucket(AT)).toBe(29_453_761);
    expect(minuteBucket(Date.UTC(2026, 0, 1, 0, 1, 0))).toBe(29_453_761);
    expect(minuteBucket(Date.UTC(2026, 0, 1, 0, 1, 0) - 1)).toBe(29_453_760);
    expect(minuteBucketStartMs(minuteBucket(AT))).toBe(Date.UTC(2026, 0, 1, 0, 1, 0));
    expect(hourBucket(Date.UTC(2026, 0, 1, 1, 59))).toBe(490_897);
    expect(hourBucketStartMs(hourBucket(AT))).toBe(Date.UTC(2026, 0, 1));
  });

  it("minuteBuckets lists the range inclusively, oldest first, capped to the newest ones", () => {
    expect(minuteBuckets(0, 150_000, 10)).toEqual([0, 1, 2]);
    expect(minuteBuckets(59_999, 60_000, 10)).toEqual([0, 1]);
    expect(minuteBuckets(0, 600_000, 3)).toEqual([8, 9, 10]);
    expect(minuteBuckets(120_000, 60_000, 10)).toEqual([]);
    expect(minuteBuckets(0, 60_000, 0)).toEqual([]);
  });

  it("retentions are 48 h for minutes and 8 days for hours", () => {
    expect(METRICS_MINUTE_RETENTION_SECONDS).toBe(172_800);
    expect(METRICS_HOUR_RETENTION_SECONDS).toBe(691_200);
  });
});

describe("metrics keys", () => {
  it("one scheme for every group: <app>:metrics:<group>:<minute number>", () => {
    expect(METRICS_GROUPS).toEqual([
      "cache",
      "idempotency",
      "lock",
      "ratelimit",
      "jobs",
      "latency",
    ]);
    for (const group of METRICS_GROUPS) {
      expect(metricsMinuteKey("hotpath", group, minuteBucket(AT))).toBe(
        `hotpath:metrics:${group}:29453761`,
      );
    }
  });

  it("hourly rankings: <app>:metrics:<group>:top:<ranking>:<hour number>, ranking escaped", () => {
    expect(metricsTopKey("hotpath", "ratelimit", "blocked", hourBucket(AT))).toBe(
      "hotpath:metrics:ratelimit:top:blocked:490896",
    );
    expect(metricsTopKey("hotpath", "ratelimit", "a:b*", 1)).toBe(
      "hotpath:metrics:ratelimit:top:a%3Ab%2A:1",
    );
  });

  it("rejects a bucket that is not a minute or hour number (e.g. ms or a fraction)", () => {
    expect(() => metricsMinuteKey("hotpath", "cache", 1.5)).toThrow(ConfigError);
    expect(() => metricsMinuteKey("hotpath", "cache", -1)).toThrow(/Invalid metrics bucket/);
    expect(() => metricsTopKey("hotpath", "ratelimit", "allowed", Number.NaN)).toThrow(ConfigError);
  });

  it("the pattern of a group matches its minute buckets and rankings", () => {
    const pattern = metricsKeyPattern("hotpath", "ratelimit");
    expect(pattern).toBe("hotpath:metrics:ratelimit:*");
    const glob = new RegExp(`^${pattern.replace("*", ".*")}$`);
    expect(glob.test(metricsMinuteKey("hotpath", "ratelimit", 5))).toBe(true);
    expect(glob.test(metricsTopKey("hotpath", "ratelimit", "allowed", 5))).toBe(true);
    expect(glob.test(metricsMinuteKey("hotpath", "cache", 5))).toBe(false);
  });

  it("fields are <label>|<counter> and split at the last separator", () => {
    expect(metricsField("user", "cache_hits_total")).toBe("user|cache_hits_total");
    expect(parseMetricsField("a|b|cache_hits_total")).toEqual({
      label: "a|b",
      counter: "cache_hits_total",
    });
    expect(parseMetricsField(metricsField("x", "y"))).toEqual({ label: "x", counter: "y" });
    expect(parseMetricsField("no-separator")).toBeUndefined();
  });
});
