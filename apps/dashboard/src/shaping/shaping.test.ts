import { describe, expect, it } from "vitest";
import type { CachePoint, RateLimitPoint } from "../model.ts";
import { cacheChartRows, cacheNamespaces, namespaceRows } from "./cache-series.ts";
import { keyAreaRows } from "./key-areas.ts";
import { sameBoard, withRankChanges } from "./rank-changes.ts";
import { policyTotals, rateLimitChartRows, rateLimitPolicies } from "./rate-limit-series.ts";
import { hitRatio, share } from "./ratios.ts";
import {
  MAX_BUCKETS,
  bucketOf,
  bucketStarts,
  bucketWidth,
  windowEndingAt,
} from "./time-buckets.ts";

const MIN = 60_000;
// 2026-01-01T10:00:00Z, a whole minute.
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

describe("ratios", () => {
  it("counts stale values served as hits", () => {
    expect(hitRatio(6, 2, 2)).toBe(0.8);
    expect(hitRatio(0, 5, 0)).toBe(0);
  });
  it("is unknown without requests", () => {
    expect(hitRatio(0, 0, 0)).toBeNull();
    expect(share(0, 0)).toBeNull();
    expect(share(1, 4)).toBe(0.25);
  });
});

describe("time buckets", () => {
  it("widens buckets so that at most MAX_BUCKETS bars are drawn", () => {
    expect(bucketWidth(15 * MIN, MIN)).toBe(MIN);
    expect(bucketWidth(60 * MIN, MIN)).toBe(MIN);
    const day = bucketWidth(24 * 60 * MIN, MIN);
    expect(day).toBe(15 * MIN);
    expect((24 * 60 * MIN) / day).toBeLessThanOrEqual(MAX_BUCKETS);
  });
  it("ends the window at the end of the bucket holding now", () => {
    const w = windowEndingAt(T0 + 30_000, 15 * MIN, MIN);
    expect(w.to).toBe(T0 + MIN);
    expect(w.from).toBe(T0 + MIN - 15 * MIN);
    expect(bucketStarts(w)).toHaveLength(15);
    expect(bucketStarts(w).at(-1)).toBe(T0);
  });
  it("places timestamps in their bucket and rejects those outside", () => {
    const w = windowEndingAt(T0, 60 * MIN, 15 * MIN);
    expect(bucketOf(T0 - 1, w)).toBe(T0 - 15 * MIN);
    expect(bucketOf(T0 + 14 * MIN, w)).toBe(T0);
    expect(bucketOf(w.to, w)).toBeNull();
    expect(bucketOf(w.from - 1, w)).toBeNull();
  });
});

const cachePoints: CachePoint[] = [
  { t: T0 - 2 * MIN, namespace: "user", hit: 8, miss: 2, stale: 0 },
  { t: T0 - 1 * MIN, namespace: "user", hit: 10, miss: 0, stale: 0 },
  { t: T0 - 1 * MIN, namespace: "status", hit: 1, miss: 3, stale: 1 },
  { t: T0, namespace: "config", hit: 0, miss: 0, stale: 0 },
  // Outside a 15-minute window ending at T0.
  { t: T0 - 60 * MIN, namespace: "user", hit: 1000, miss: 0, stale: 0 },
];

describe("cache series", () => {
  const window = windowEndingAt(T0, 15 * MIN, MIN);
  it("zero-fills every bucket and sums all namespaces", () => {
    const rows = cacheChartRows(cachePoints, window, null);
    expect(rows).toHaveLength(15);
    expect(rows.filter((r) => r.hit + r.miss + r.stale > 0)).toEqual([
      { t: T0 - 2 * MIN, hit: 8, miss: 2, stale: 0 },
      { t: T0 - MIN, hit: 11, miss: 3, stale: 1 },
    ]);
    expect(rows.every((r, i) => i === 0 || r.t - (rows[i - 1]?.t ?? 0) === MIN)).toBe(true);
  });
  it("filters one namespace", () => {
    const rows = cacheChartRows(cachePoints, window, "status");
    expect(rows.reduce((sum, r) => sum + r.miss, 0)).toBe(3);
    expect(rows.reduce((sum, r) => sum + r.hit, 0)).toBe(1);
  });
  it("lists namespaces and sorts the table by hit ratio, idle namespaces last", () => {
    expect(cacheNamespaces(cachePoints)).toEqual(["config", "status", "user"]);
    const table = namespaceRows(cachePoints.slice(0, 4));
    expect(table.map((r) => r.namespace)).toEqual(["user", "status", "config"]);
    expect(table[0]).toMatchObject({ hit: 18, miss: 2, stale: 0, total: 20, hitRatio: 0.9 });
    expect(table[1]?.hitRatio).toBe(0.4);
    expect(table[2]?.hitRatio).toBeNull();
  });
  it("breaks hit-ratio ties by traffic", () => {
    const table = namespaceRows([
      { t: T0, namespace: "a", hit: 1, miss: 1, stale: 0 },
      { t: T0, namespace: "b", hit: 5, miss: 5, stale: 0 },
    ]);
    expect(table.map((r) => r.namespace)).toEqual(["b", "a"]);
  });
});

const rlPoints: RateLimitPoint[] = [
  { t: T0 - MIN, policy: "tips:quick", allowed: 10, blocked: 5 },
  { t: T0, policy: "tips:quick", allowed: 2, blocked: 7 },
  { t: T0, policy: "streams:status", allowed: 100, blocked: 0 },
];

describe("rate-limit series", () => {
  const window = windowEndingAt(T0, 15 * MIN, MIN);
  it("stacks allowed and blocked per bucket for one or all policies", () => {
    const all = rateLimitChartRows(rlPoints, window, null);
    expect(all.at(-1)).toEqual({ t: T0, allowed: 102, blocked: 7 });
    const one = rateLimitChartRows(rlPoints, window, "tips:quick");
    expect(one.at(-2)).toEqual({ t: T0 - MIN, allowed: 10, blocked: 5 });
    expect(one.at(-1)).toEqual({ t: T0, allowed: 2, blocked: 7 });
  });
  it("totals per policy, most blocked first", () => {
    expect(rateLimitPolicies(rlPoints)).toEqual(["streams:status", "tips:quick"]);
    expect(policyTotals(rlPoints)).toEqual([
      { policy: "tips:quick", allowed: 12, blocked: 12 },
      { policy: "streams:status", allowed: 100, blocked: 0 },
    ]);
  });
});

describe("rank changes", () => {
  const before = [
    { member: "1", label: "ada", score: 30, rank: 1 },
    { member: "2", label: "bob", score: 20, rank: 2 },
    { member: "3", label: "cy", score: 10, rank: 3 },
  ];
  const after = [
    { member: "3", label: "cy", score: 40, rank: 1 },
    { member: "1", label: "ada", score: 30, rank: 2 },
    { member: "4", label: "dee", score: 25, rank: 3 },
  ];
  it("reports moves up, down and newcomers", () => {
    expect(withRankChanges(after, before).map((e) => [e.label, e.change])).toEqual([
      ["cy", 2],
      ["ada", -1],
      ["dee", null],
    ]);
  });
  it("reports no change without a previous snapshot", () => {
    expect(withRankChanges(after, undefined).map((e) => e.change)).toEqual([0, 0, 0]);
  });
  it("compares boards by member, rank and score", () => {
    expect(
      sameBoard(
        before,
        before.map((e) => ({ ...e })),
      ),
    ).toBe(true);
    expect(sameBoard(before, after)).toBe(false);
    expect(sameBoard(before, [{ ...before[0]!, score: 31 }, before[1]!, before[2]!])).toBe(false);
  });
});

describe("key areas", () => {
  it("sorts by measured memory and computes shares", () => {
    const rows = keyAreaRows([
      { area: "rl", keys: 10, bytes: 1000, measuredKeys: 10 },
      { area: "cache", keys: 30, bytes: 3000, measuredKeys: 30 },
      { area: "lock", keys: 0, bytes: 0, measuredKeys: 0 },
    ]);
    expect(rows.map((r) => r.area)).toEqual(["cache", "rl", "lock"]);
    expect(rows[0]?.memoryShare).toBe(0.75);
    expect(rows[0]?.keyShare).toBe(0.75);
    expect(rows[2]?.memoryShare).toBe(0);
  });
  it("puts areas of unknown memory after measured ones, by keys, with no memory share", () => {
    const rows = keyAreaRows([
      { area: "feed", keys: 50, bytes: null, measuredKeys: 0 },
      { area: "lb", keys: 90, bytes: null, measuredKeys: 0 },
      { area: "rl", keys: 1, bytes: 10, measuredKeys: 1 },
    ]);
    expect(rows.map((r) => [r.area, r.memoryShare])).toEqual([
      ["rl", 1],
      ["lb", 0],
      ["feed", 0],
    ]);
  });
  it("has zero shares when nothing was sampled", () => {
    expect(keyAreaRows([{ area: "cache", keys: 0, bytes: 0, measuredKeys: 0 }])[0]).toMatchObject({
      keyShare: 0,
      memoryShare: 0,
    });
  });
});
