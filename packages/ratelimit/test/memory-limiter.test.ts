import { describe, expect, it } from "vitest";
import { MemoryLimiter, resolvePolicy } from "../src/index.ts";

const T0 = 1_800_000_000_000;

describe("in-memory insurance limiter", () => {
  it("enforces a fixed window and resets at the window end", () => {
    const limiter = new MemoryLimiter();
    const policy = resolvePolicy("p", { limit: 3, window: "1s", algorithm: "fixedWindow" });
    const decisions = [0, 1, 2, 3].map((i) => limiter.limit("a", [policy], 1, T0 + i)[0]);
    expect(decisions.map((d) => d?.success)).toEqual([true, true, true, false]);
    expect(decisions[3]?.reset).toBe(T0 + 1000);
    expect(limiter.limit("a", [policy], 1, T0 + 1000)[0]?.success).toBe(true);
  });

  it("weights the previous window in a sliding window", () => {
    const limiter = new MemoryLimiter();
    const policy = resolvePolicy("p", { limit: 4, window: "1s", algorithm: "slidingWindow" });
    for (let i = 0; i < 4; i++)
      expect(limiter.limit("a", [policy], 1, T0 + i)[0]?.success).toBe(true);
    // 25 % into the next window, 3 of the 4 previous requests still count.
    expect(limiter.limit("a", [policy], 1, T0 + 1250)[0]?.success).toBe(true);
    expect(limiter.limit("a", [policy], 1, T0 + 1250)[0]?.success).toBe(false);
  });

  it("refills a token bucket and honours cost", () => {
    const limiter = new MemoryLimiter();
    const policy = resolvePolicy("p", {
      limit: 5,
      window: "1s",
      algorithm: "tokenBucket",
      refillRate: 2,
    });
    expect(limiter.limit("a", [policy], 4, T0)[0]).toMatchObject({ success: true, remaining: 1 });
    expect(limiter.limit("a", [policy], 2, T0)[0]).toMatchObject({ success: false, remaining: 0 });
    expect(limiter.limit("a", [policy], 3, T0 + 1000)[0]).toMatchObject({
      success: true,
      remaining: 0,
    });
  });

  it("consumes nothing when one of several policies refuses", () => {
    const limiter = new MemoryLimiter();
    const burst = resolvePolicy("burst", { limit: 10, window: "1s", algorithm: "fixedWindow" });
    const daily = resolvePolicy("daily", { limit: 2, window: "1d", algorithm: "fixedWindow" });
    limiter.limit("a", [burst, daily], 1, T0);
    limiter.limit("a", [burst, daily], 1, T0);
    const refused = limiter.limit("a", [burst, daily], 1, T0);
    expect(refused.map((o) => o.success)).toEqual([true, false]);
    expect(limiter.limit("a", [burst], 1, T0)[0]?.remaining).toBe(7);
  });

  it("stays bounded", () => {
    const limiter = new MemoryLimiter({ maxEntries: 100 });
    const policy = resolvePolicy("p", "1/1m");
    for (let i = 0; i < 1000; i++) limiter.limit(`id${i}`, [policy], 1, T0);
    expect(limiter.size).toBe(100);
  });
});
