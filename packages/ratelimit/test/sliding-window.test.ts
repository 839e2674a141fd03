import type { HotpathRedis } from "@hotpath/redis";
import { TRANSPORTS, deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  MemoryLimiter,
  createRateLimiter,
  resolvePolicy,
  type CreateRateLimiterOptions,
  type LimitOptions,
  type RateLimitResult,
} from "../src/index.ts";

const WINDOW_MS = 60_000;
const LIMIT = 10;
/** A window boundary far from today's clock: every test sets its own time (injected clock). */
const BOUNDARY = Math.floor(4_100_000_000_000 / WINDOW_MS) * WINDOW_MS;

const POLICIES = {
  approx: { limit: LIMIT, window: "1m", algorithm: "slidingWindow" },
  exact: { limit: LIMIT, window: "1m", algorithm: "slidingWindowLog" },
  // Never the limiting policy: pairs with `approx` to run our multi-policy script.
  roomy: { limit: 1_000_000, window: "1d", algorithm: "fixedWindow" },
  bulk: { limit: 20_000, window: "1h", algorithm: "slidingWindowLog" },
} as const satisfies CreateRateLimiterOptions["policies"];

/** Requests until the first refusal (at most `max`), all at the current clock. */
async function admitted(
  limit: (options: LimitOptions) => Promise<RateLimitResult>,
  options: LimitOptions,
  max = 3 * LIMIT,
): Promise<number> {
  let count = 0;
  while (count < max && (await limit(options)).success) count++;
  return count;
}

/**
 * The documented bound of the approximate sliding window: with `previous` requests at the very
 * end of the previous window, at the fraction `f` of the current window it admits
 * `limit - floor((1 - f) × previous)` more, so the real sliding window holds
 * `limit + ceil(f × previous)` (f small, a burst straddling the boundary: `limit + 1`).
 */
const approximateBound = (f: number, previous: number) =>
  previous + LIMIT - Math.floor((1 - f) * previous);

describe.each(TRANSPORTS)("sliding windows over %s (injected clock)", (transport) => {
  let redis: HotpathRedis;
  const prefixes: string[] = [];
  let clock = BOUNDARY;
  const make = (options: Partial<CreateRateLimiterOptions> = {}) => {
    const prefix = uniquePrefix(`rl-sliding-${transport}`);
    prefixes.push(prefix);
    return createRateLimiter({
      redis,
      prefix,
      policies: POLICIES,
      analytics: false,
      controls: false,
      ephemeralCache: false,
      now: () => clock,
      ...options,
    });
  };

  beforeAll(() => {
    redis = openTestRedis(transport);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(redis, prefix);
    await redis.close();
  });

  describe("approximate (slidingWindow): the bound is exactly limit + ceil(f × previous)", () => {
    it.each([0.0001, 0.25, 0.5, 0.9])(
      "our multi-policy script, f = %d after a full window ending at the boundary",
      async (f) => {
        const limiter = make();
        const options = { policy: ["approx", "roomy"] };
        clock = BOUNDARY - 1;
        const before = await admitted((o) => limiter.limit("u", o), options);
        expect(before).toBe(LIMIT);
        clock = BOUNDARY + Math.round(f * WINDOW_MS);
        const after = await admitted((o) => limiter.limit("u", o), options);
        // Every one of these requests lies within one sliding window of the first burst.
        expect(before + after).toBe(approximateBound(f, LIMIT));
        if (f < 0.01) expect(before + after).toBe(LIMIT + 1);
      },
    );

    it("upstream's script (single policy): a burst straddling the boundary admits limit + 1", async () => {
      // Upstream reads Date.now() itself: only Date is faked, timers and sockets stay real.
      vi.useFakeTimers({ toFake: ["Date"] });
      const limiter = make({ now: undefined });
      vi.setSystemTime(BOUNDARY - 1);
      const before = await admitted((o) => limiter.limit("u", o), { policy: "approx" });
      vi.setSystemTime(BOUNDARY + 5);
      const after = await admitted((o) => limiter.limit("u", o), { policy: "approx" });
      expect([before, after]).toEqual([LIMIT, 1]);
    });
  });

  describe("exact (slidingWindowLog): never more than limit in any window", () => {
    it.each([0.0001, 0.25, 0.5, 0.9])(
      "alone and beside another policy, f = %d after a full window ending at the boundary",
      async (f) => {
        for (const policy of ["exact", ["exact", "roomy"]]) {
          const limiter = make();
          clock = BOUNDARY - 1;
          expect(await admitted((o) => limiter.limit("u", o), { policy })).toBe(LIMIT);
          clock = BOUNDARY + Math.round(f * WINDOW_MS);
          expect(await admitted((o) => limiter.limit("u", o), { policy })).toBe(0);
        }
      },
    );

    it("gives quota back one request at a time as the log's entries leave the window", async () => {
      const limiter = make();
      const start = BOUNDARY - 30_000;
      for (let i = 0; i < LIMIT; i++) {
        clock = start + i * 1000;
        expect(await limiter.limit("u", { policy: "exact" })).toMatchObject({
          success: true,
          remaining: LIMIT - 1 - i,
          reset: start + WINDOW_MS,
        });
      }
      clock = start + WINDOW_MS - 1;
      const blocked = await limiter.limit("u", { policy: "exact" });
      expect(blocked).toMatchObject({ success: false, remaining: 0, reset: start + WINDOW_MS });
      expect(blocked.retryAfter).toBe(1);
      // A cost of 3 waits for the third-oldest entry.
      expect((await limiter.limit("u", { policy: "exact", cost: 3 })).reset).toBe(
        start + 2000 + WINDOW_MS,
      );
      clock = start + WINDOW_MS;
      expect(await limiter.limit("u", { policy: "exact" })).toMatchObject({
        success: true,
        remaining: 0,
      });
      expect((await limiter.limit("u", { policy: "exact" })).success).toBe(false);
      expect((await limiter.getRemaining("u", { policy: "exact" }))[0]).toMatchObject({
        remaining: 0,
        reset: start + 1000 + WINDOW_MS,
      });
      clock = start + 1000 + WINDOW_MS;
      expect((await limiter.getRemaining("u", { policy: "exact" }))[0]?.remaining).toBe(1);
      await limiter.reset("u", { policy: "exact" });
      expect((await limiter.getRemaining("u", { policy: "exact" }))[0]?.remaining).toBe(LIMIT);
    });

    it("charges the cost of a request and refuses all of it when it does not fit", async () => {
      const limiter = make();
      clock = BOUNDARY;
      expect(await limiter.limit("u", { policy: "exact", cost: 7 })).toMatchObject({
        success: true,
        remaining: 3,
      });
      expect(await limiter.limit("u", { policy: "exact", cost: 4 })).toMatchObject({
        success: false,
        remaining: 3,
      });
      expect(await limiter.limit("u", { policy: "exact", cost: 3 })).toMatchObject({
        success: true,
        remaining: 0,
      });
    });

    it("takes a cost larger than one Lua call can unpack", async () => {
      const limiter = make();
      clock = BOUNDARY;
      expect(await limiter.limit("u", { policy: "bulk", cost: 12_345 })).toMatchObject({
        success: true,
        remaining: 20_000 - 12_345,
      });
      expect((await limiter.getRemaining("u", { policy: "bulk" }))[0]?.remaining).toBe(
        20_000 - 12_345,
      );
    });

    it("holds across instances: 30 concurrent requests from 3 limiters admit exactly the limit", async () => {
      const prefix = uniquePrefix(`rl-sliding-shared-${transport}`);
      prefixes.push(prefix);
      const instances = [0, 1, 2].map(() => make({ prefix }));
      clock = BOUNDARY - 1;
      const first = await Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          (instances[i % 3] as (typeof instances)[number]).limit("u", { policy: "exact" }),
        ),
      );
      clock = BOUNDARY + 1;
      const second = await Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          (instances[i % 3] as (typeof instances)[number]).limit("u", { policy: "exact" }),
        ),
      );
      expect([...first, ...second].filter((r) => r.success)).toHaveLength(LIMIT);
    });
  });
});

describe("the insurance limiter's sliding window log (in memory)", () => {
  it("admits exactly the limit across a boundary and gives quota back as entries leave", () => {
    const memory = new MemoryLimiter();
    const exact = resolvePolicy("exact", POLICIES.exact);
    const approx = resolvePolicy("approx", POLICIES.approx);
    const count = (policy: typeof exact, now: number) => {
      let n = 0;
      while (n < 3 * LIMIT && memory.limit(policy.name, [policy], 1, now)[0]?.success) n++;
      return n;
    };
    expect(count(exact, BOUNDARY - 1)).toBe(LIMIT);
    expect(count(exact, BOUNDARY + 1)).toBe(0);
    expect(count(exact, BOUNDARY - 1 + WINDOW_MS)).toBe(LIMIT);
    // The approximate one has the same bound as in Redis.
    expect(count(approx, BOUNDARY - 1)).toBe(LIMIT);
    expect(count(approx, BOUNDARY + 1)).toBe(1);
  });
});
