import { TRANSPORTS } from "@hotpath/testing";
import { metricsMinuteKey, metricsTopKey, hourBucket, minuteBucket } from "@hotpath/config";
import { parseList } from "structured-headers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  RATE_LIMIT_COUNTERS,
  createRateLimiter,
  getRateLimitHeaders,
  RATE_LIMIT_METRICS_GROUP,
  parseClientAddress,
  type RateLimitResult,
} from "../src/index.ts";
import { POLICIES, WINDOW_MS, useLimiterSuite } from "./limiter-fixtures.ts";
import { countingRedis, waitFor } from "./helpers.ts";

async function run(
  limiter: ReturnType<typeof createRateLimiter>,
  id: string,
  n: number,
  options: Parameters<ReturnType<typeof createRateLimiter>["limit"]>[1],
) {
  const results: RateLimitResult[] = [];
  for (let i = 0; i < n; i++) results.push(await limiter.limit(id, options));
  return results;
}

describe.each(TRANSPORTS)("rate limiter over %s", (transport) => {
  const suite = useLimiterSuite(transport);
  const { make } = suite;

  describe("boundaries per algorithm (injected clock: Date is faked, sockets and timers stay real)", () => {
    // Upstream's single-policy scripts read Date.now() themselves, so Date is the clock here. The
    // windows start a little ahead of the real clock, so a key that expires at an absolute time
    // (the cached window's PEXPIREAT) outlives the test; the tests never wait for real time.
    let start = 0;
    beforeEach(() => {
      start = (Math.floor(Date.now() / WINDOW_MS) + 2) * WINDOW_MS;
      vi.useFakeTimers({ toFake: ["Date"], now: start });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("fixed window: the request after the limit is blocked, and the window resets when it says", async () => {
      const limiter = make({ ephemeralCache: false });
      const results = await run(limiter, "u", 4, { policy: "fixed" });
      expect(results.map((r) => [r.success, r.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      const blocked = results[3] as RateLimitResult;
      expect(blocked).toMatchObject({
        reason: "limited",
        policy: "fixed",
        limit: 3,
        reset: start + WINDOW_MS,
        retryAfter: 60,
      });
      vi.setSystemTime(blocked.reset - 1);
      expect((await limiter.limit("u", { policy: "fixed" })).success).toBe(false);
      vi.setSystemTime(blocked.reset);
      expect(await limiter.limit("u", { policy: "fixed" })).toMatchObject({
        success: true,
        remaining: 2,
      });
    });

    it("sliding window: blocked after the limit, the previous window still weighs in after the reset", async () => {
      const limiter = make({ ephemeralCache: false });
      const results = await run(limiter, "u", 4, { policy: "sliding" });
      expect(results.map((r) => r.success)).toEqual([true, true, true, false]);
      const blocked = results[3] as RateLimitResult;
      expect(blocked.reset).toBe(start + WINDOW_MS);
      // Just after the reset the previous window weighs floor(0.999… × 3) = 2: one request fits.
      vi.setSystemTime(blocked.reset + 1);
      const afterReset = await run(limiter, "u", 3, { policy: "sliding" });
      expect(afterReset.map((r) => r.success)).toEqual([true, false, false]);
      // Half a window later it weighs floor(0.5 × 3) = 1, plus the one of this window: one more.
      vi.setSystemTime(blocked.reset + WINDOW_MS / 2);
      expect((await run(limiter, "u", 2, { policy: "sliding" })).map((r) => r.success)).toEqual([
        true,
        false,
      ]);
      // Two windows later the previous window is empty again.
      vi.setSystemTime(blocked.reset + 2 * WINDOW_MS);
      expect((await run(limiter, "u", 3, { policy: "sliding" })).every((r) => r.success)).toBe(
        true,
      );
    });

    it("token bucket: blocked when empty, one token back at the reset it announced", async () => {
      const limiter = make({ ephemeralCache: false });
      const results = await run(limiter, "u", 4, { policy: "bucket" });
      expect(results.map((r) => [r.success, r.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      const blocked = results[3] as RateLimitResult;
      expect(blocked.reset).toBe(start + WINDOW_MS);
      vi.setSystemTime(blocked.reset - 1);
      expect((await limiter.limit("u", { policy: "bucket" })).success).toBe(false);
      vi.setSystemTime(blocked.reset);
      const refilled = await run(limiter, "u", 2, { policy: "bucket" });
      expect(refilled.map((r) => r.success)).toEqual([true, false]);
    });

    it("cached fixed window: blocked after the limit, allowed again after the reset", async () => {
      const limiter = make({ ephemeralCache: false });
      const results = await run(limiter, "u", 4, { policy: "cached" });
      expect(results.map((r) => r.success)).toEqual([true, true, true, false]);
      expect((results[3] as RateLimitResult).reset).toBe(start + WINDOW_MS);
      // The window key expires (upstream's script, patched, sets PEXPIRE <window> on its creation).
      const key = `${suite.prefixes.at(-1) ?? ""}:rl:cached:{u}:${start / WINDOW_MS}`;
      const ttl = await suite.redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(WINDOW_MS);
      // The local count was synced to Redis through `pending` (awaited, as no waitUntil is given).
      const remaining = await limiter.getRemaining("u", { policy: "cached" });
      expect(remaining[0]?.remaining).toBe(0);
      vi.setSystemTime(start + WINDOW_MS);
      expect((await limiter.limit("u", { policy: "cached" })).success).toBe(true);
    });
  });

  it("charges the cost of a request", async () => {
    const limiter = make({ ephemeralCache: false });
    expect(await limiter.limit("u", { policy: "wide", cost: 4 })).toMatchObject({
      success: true,
      remaining: 6,
    });
    expect(await limiter.limit("u", { policy: "wide", cost: 4 })).toMatchObject({
      success: true,
      remaining: 2,
    });
    expect(await limiter.limit("u", { policy: "wide", cost: 4 })).toMatchObject({
      success: false,
      remaining: 0,
    });
    expect(await limiter.limit("u", { policy: "wide", cost: 2 })).toMatchObject({
      success: true,
      remaining: 0,
    });
    await expect(limiter.limit("u", { policy: "wide", cost: 0 })).rejects.toThrow(/cost/);
    await expect(limiter.limit("", { policy: "wide" })).rejects.toThrow(/identifier/);
    await expect(limiter.limit("u", { policy: "nope" })).rejects.toMatchObject({
      code: "RATELIMIT_UNKNOWN_POLICY",
    });
  });

  it("resolves buckets and plans from @hotpath/config", async () => {
    const limiter = make();
    const result = await limiter.limit("u", { bucket: "tips:quick", plan: "free" });
    expect(result.policies.map((p) => [p.policy, p.limit])).toEqual([
      ["strict", 10],
      ["plan:free", 10],
    ]);
    expect((await limiter.limit("u", { bucket: "streams:status" })).policy).toBe("generous");
  });

  describe("several policies at once", () => {
    it("reports all, returns the most restrictive, and consumes nothing when one refuses", async () => {
      const limiter = make({ ephemeralCache: false });
      const results = await run(limiter, "u", 4, { policy: ["burst", "daily"] });
      expect(results.map((r) => r.success)).toEqual([true, true, true, false]);
      expect(results[2]).toMatchObject({ policy: "burst", remaining: 0 });
      expect(
        (results[3] as RateLimitResult).policies.map((p) => [p.policy, p.success, p.remaining]),
      ).toEqual([
        ["burst", false, 0],
        ["daily", true, 2],
      ]);
      // The refused request took nothing from the daily quota.
      const remaining = await limiter.getRemaining("u", { policy: ["burst", "daily"] });
      expect(remaining.map((q) => [q.policy, q.remaining])).toEqual([
        ["burst", 0],
        ["daily", 2],
      ]);
      const headers = getRateLimitHeaders(results[3] as RateLimitResult);
      expect(parseList(headers["RateLimit-Policy"] ?? "").map(([name]) => name)).toEqual([
        "burst",
        "daily",
      ]);
      expect(parseList(headers["RateLimit"] ?? "").map(([, params]) => params.get("r"))).toEqual([
        0, 2,
      ]);
    });

    it("blocks on the daily quota once the burst has room again", async () => {
      const limiter = make({
        ephemeralCache: false,
        policies: { ...POLICIES, burst: { limit: 10, window: "1m", algorithm: "tokenBucket" } },
      });
      const results = await run(limiter, "u", 6, { policy: ["burst", "daily"] });
      expect(results.map((r) => r.success)).toEqual([true, true, true, true, true, false]);
      expect(results[5]).toMatchObject({ policy: "daily", reason: "limited" });
      expect((results[5] as RateLimitResult).retryAfter).toBeGreaterThan(60);
    });

    it("costs one Redis call for one policy and one for several", async () => {
      const counting = countingRedis(suite.redis);
      const limiter = make({ redis: counting.redis, analytics: false, controls: false });
      // Warm-up: the first use of a script may cost a NOSCRIPT answer plus an EVAL that loads it.
      await limiter.limit("warm", { policy: "fixed" });
      await limiter.limit("warm", { policy: ["burst", "daily", "minuteSliding"] });
      counting.calls.clear();
      await limiter.limit("u", { policy: "fixed" });
      await limiter.limit("u", { policy: ["burst", "daily", "minuteSliding"] });
      expect(counting.calls.get("evalsha")).toBe(2);
      expect(counting.total()).toBe(2);
    });
  });

  it("answers a blocked identifier from the ephemeral cache without calling Redis", async () => {
    const counting = countingRedis(suite.redis);
    const limiter = make({ redis: counting.redis, analytics: false, controls: false });
    const results = await run(limiter, "u", 4, { policy: "burst" });
    expect(results[3]?.reason).toBe("limited");
    const before = counting.total();
    const cached = await run(limiter, "u", 50, { policy: "burst" });
    expect(cached.every((r) => !r.success && r.reason === "cacheBlock" && r.retryAfter >= 1)).toBe(
      true,
    );
    expect(counting.total()).toBe(before);
    expect(limiter.stats().cacheBlocks).toBe(50);
  });

  describe("deny list and overrides (runtime, no redeploy)", () => {
    it("denies an identifier or an IP group, seen by another instance after its refresh", async () => {
      const prefix = suite.prefix("rl-deny");
      const a = createRateLimiter({ redis: suite.redis, prefix, policies: POLICIES });
      const b = createRateLimiter({
        redis: suite.redis,
        prefix,
        policies: POLICIES,
        controls: { refreshMs: 50 },
      });
      expect((await b.limit("villain", { policy: "wide" })).success).toBe(true);
      await a.denyList.add({ identifier: "villain" });
      expect(await a.limit("villain", { policy: "wide" })).toMatchObject({
        success: false,
        reason: "denyList",
        denied: "identifier",
      });
      // b sees it once its copy is older than refreshMs (a condition, polled with a deadline).
      await waitFor(
        "the other instance to refresh its deny list",
        async () => (await b.limit("villain", { policy: "wide" })).reason === "denyList",
      );
      await a.denyList.add({ ip: "2001:db8:5:6::1" });
      const ip = parseClientAddress("2001:db8:5:6:aaaa::9")?.group;
      expect(await a.limit("someone", { policy: "wide", ip })).toMatchObject({
        reason: "denyList",
        denied: "ip",
      });
      expect(
        await a.limit("someone-else", { policy: "wide", ip: "2001:db8:5:6::abcd" }),
      ).toMatchObject({
        reason: "denyList",
        denied: "ip",
      });
      expect((await a.limit("neighbour", { policy: "wide", ip: "2001:db8:5:7::1" })).success).toBe(
        true,
      );
      expect(await a.denyList.list()).toEqual(["id:villain", "ip:2001:db8:5:6::/64"]);
      await a.denyList.remove({ identifier: "villain" });
      expect((await a.limit("villain", { policy: "wide" })).success).toBe(true);
      await expect(a.denyList.add({ ip: "not an ip" })).rejects.toThrow(/ip/);
    });

    it("gives an identifier 10x, or an exact limit per policy", async () => {
      const limiter = make({ ephemeralCache: false });
      await limiter.overrides.set("partner", { multiplier: 10 });
      await limiter.overrides.set("vip", { limits: { burst: 5 } });
      const partner = await run(limiter, "partner", 31, { policy: "burst" });
      expect(partner.filter((r) => r.success)).toHaveLength(30);
      expect(partner[0]?.limit).toBe(30);
      const vip = await run(limiter, "vip", 6, { policy: "burst" });
      expect(vip.map((r) => r.success)).toEqual([true, true, true, true, true, false]);
      expect(await limiter.overrides.list()).toEqual({
        partner: { multiplier: 10 },
        vip: { limits: { burst: 5 } },
      });
      await limiter.overrides.remove("partner");
      expect((await limiter.limit("partner", { policy: "burst" })).limit).toBe(3);
      await expect(limiter.overrides.set("x", { multiplier: -1 })).rejects.toThrow(
        /override.multiplier/,
      );
    });
  });

  it("admin: getRemaining and reset", async () => {
    const limiter = make();
    await run(limiter, "u", 4, { policy: ["burst", "daily"] });
    expect((await limiter.limit("u", { policy: ["burst", "daily"] })).reason).toBe("cacheBlock");
    expect((await limiter.getRemaining("u", { policy: "daily" }))[0]).toMatchObject({
      remaining: 2,
      limit: 5,
    });
    await limiter.reset("u");
    expect(
      (await limiter.getRemaining("u", { policy: ["burst", "daily"] })).map((q) => q.remaining),
    ).toEqual([3, 5]);
    expect(await limiter.limit("u", { policy: ["burst", "daily"] })).toMatchObject({
      success: true,
      reason: "allowed",
    });
    const all = await limiter.getRemaining("u");
    expect(all.map((q) => q.policy)).toContain("API");
  });

  describe("metrics", () => {
    it("counts allowed / blocked per policy per minute and the top identifiers, in Redis", async () => {
      const prefix = suite.prefix("rl-metrics");
      // Injected clock: every decision lands in one known minute and hour, wherever the wall clock is.
      const now = Date.now();
      const limiter = createRateLimiter({
        redis: suite.redis,
        prefix,
        policies: POLICIES,
        analytics: { flushIntervalMs: 60_000 },
        now: () => now,
      });
      await run(limiter, "alice", 5, { policy: "burst" });
      await run(limiter, "bob", 2, { policy: "burst" });
      await limiter.metrics.flush();
      const usage = await limiter.metrics.getUsage();
      expect(usage.burst).toEqual({ allowed: 5, blocked: 2, fallback: 0 });
      const series = await limiter.metrics.getUsageOverTime({ since: now - 5 * 60_000 });
      expect(series.length).toBeGreaterThanOrEqual(5);
      expect(series.reduce((sum, point) => sum + (point.policies.burst?.blocked ?? 0), 0)).toBe(2);
      expect(await limiter.metrics.topIdentifiers({ kind: "blocked" })).toEqual([
        { identifier: "alice", count: 2 },
      ]);
      expect(await limiter.metrics.topIdentifiers({ kind: "allowed" })).toEqual([
        { identifier: "alice", count: 3 },
        { identifier: "bob", count: 2 },
      ]);
      const minuteKey = metricsMinuteKey(prefix, RATE_LIMIT_METRICS_GROUP, minuteBucket(now));
      expect(minuteKey).toBe(`${prefix}:metrics:ratelimit:${Math.floor(now / 60_000)}`);
      const raw = await suite.redis.hgetall(minuteKey);
      expect(raw?.[`burst|${RATE_LIMIT_COUNTERS.blocked}`]).toBe(2);
      expect(await suite.redis.ttl(minuteKey)).toBeGreaterThan(0);
      const topKey = metricsTopKey(prefix, RATE_LIMIT_METRICS_GROUP, "blocked", hourBucket(now));
      expect(await suite.redis.zscore(topKey, "alice")).toBe(2);
    });

    it("flushes inside pending: handed to waitUntil, or awaited before limit() returns", async () => {
      const handed: Promise<unknown>[] = [];
      const prefix = suite.prefix("rl-pending");
      const withHook = createRateLimiter({
        redis: suite.redis,
        prefix,
        policies: POLICIES,
        analytics: { flushIntervalMs: 0 },
        waitUntil: (p) => handed.push(p),
      });
      const result = await withHook.limit("u", { policy: "wide" });
      expect(handed).toContain(result.pending);
      await Promise.all(handed);
      expect((await withHook.metrics.getUsage()).wide?.allowed).toBe(1);

      const awaited = createRateLimiter({
        redis: suite.redis,
        prefix,
        policies: POLICIES,
        analytics: { flushIntervalMs: 0 },
      });
      await awaited.limit("u", { policy: "wide" });
      expect((await awaited.metrics.getUsage()).wide?.allowed).toBe(2);
    });
  });
});
