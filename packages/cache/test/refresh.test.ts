import { describe, expect, it, vi } from "vitest";
import type { HotpathRedis } from "@hotpath/redis";
import { TRANSPORTS } from "@hotpath/testing";
import { cacheEntryKey, createCache, type CacheEvent } from "../src/index.ts";
import { eventually, useTestApps } from "./helpers.ts";

describe.each(TRANSPORTS)("jitter, early refresh, waitUntil and events over %s", (transport) => {
  let redis: HotpathRedis;
  // guardSlots: every script, MULTI and multi-key command must stay in one cluster slot.
  const { newApp } = useTestApps(transport, (client) => (redis = client), { guardSlots: true });

  it("jitter spreads the TTLs of keys written together (and stays within the bound)", async () => {
    const app = newApp("jitter");
    // A generous per-call timeout: this checks TTLs, not latency (a loaded CI machine is slow).
    const cache = createCache({
      redis,
      app,
      namespace: "j",
      defaultTtl: 1000,
      metrics: false,
      timeoutMs: 10_000,
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => cache.getOrSet(`k${i}`, () => i, { jitter: 0.5 })),
    );
    const ttls = await Promise.all(
      Array.from({ length: 20 }, (_, i) => redis.pttl(cacheEntryKey(app, "j", `k${i}`))),
    );
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(490_000);
      expect(ttl).toBeLessThanOrEqual(1_000_000);
    }
    expect(new Set(ttls.map((t) => Math.round(t / 10_000))).size).toBeGreaterThan(3);
    const exact = createCache({
      redis,
      app,
      namespace: "j0",
      defaultTtl: 1000,
      metrics: false,
      timeoutMs: 10_000,
    });
    await exact.getOrSet("k", () => 1, { jitter: 0 });
    expect(await redis.pttl(cacheEntryKey(app, "j0", "k"))).toBeGreaterThan(990_000);
  });

  it("early refresh (XFetch) refreshes a hot key before it expires, in the background", async () => {
    const cache = createCache({
      redis,
      app: newApp("xfetch"),
      namespace: "x",
      defaultTtl: 60,
      metrics: false,
    });
    let version = 0;
    const load = async () => {
      version += 1;
      await new Promise((r) => setTimeout(r, 100));
      return version;
    };
    expect(await cache.getOrSet("hot", load, { ttl: "3s", jitter: 0, earlyRefresh: 50 })).toBe(1);
    // loadMs ≈ 100 ms, beta 50: the refresh probability is high well before the 3 s expiry.
    await eventually(async () => {
      await cache.getOrSet("hot", load, { ttl: "3s", jitter: 0, earlyRefresh: 50 });
      return version >= 2;
    }, 5000);
    await eventually(async () => (await cache.get("hot")) === 2);
    expect(cache.stats().misses).toBe(1);
  });

  it("adaptive loaders: setTtl, setTags, skip, and the stale value on refresh", async () => {
    const app = newApp("adaptive");
    const cache = createCache({ redis, app, namespace: "a", defaultTtl: 60, metrics: false });
    await cache.getOrSet(
      "short",
      (ctx) => {
        ctx.setTtl(5);
        return "v";
      },
      { jitter: 0 },
    );
    expect(await cache.ttl("short")).toBeLessThanOrEqual(5);
    let calls = 0;
    const skipped = () =>
      cache.getOrSet("skip", (ctx) => {
        calls += 1;
        ctx.skip();
        return "not cached";
      });
    expect(await skipped()).toBe("not cached");
    expect(await skipped()).toBe("not cached");
    expect(calls).toBe(2);
    await cache.getOrSet("tagged", (ctx) => {
      ctx.setTags(["late-tag"]);
      return 1;
    });
    expect(await cache.invalidateTag("late-tag")).toBe(1);
    const seen: unknown[] = [];
    // Already past its fresh TTL, within its stale window.
    await cache.set("swr", "first", { ttl: 0, staleWhileRevalidate: 60 });
    await cache.getOrSet(
      "swr",
      (ctx) => {
        seen.push([ctx.stale, ctx.background]);
        return "second";
      },
      { ttl: "100ms", staleWhileRevalidate: 60, jitter: 0 },
    );
    await eventually(() => seen.length === 1);
    expect(seen[0]).toEqual(["first", true]);
  });

  it("a refresh claim deferred past a refresh that already landed does not load again", async () => {
    // A stale read defers its refresh claim to a timer. If the entry is refreshed before that
    // timer runs (the first refresh finished within the timer's millisecond), the claim must see
    // a fresh entry and leave it: it once claimed regardless of freshness and refreshed twice.
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      const handed: Promise<unknown>[] = [];
      const cache = createCache({
        redis,
        app: newApp("late-claim"),
        namespace: "n",
        defaultTtl: 60,
        metrics: false,
        timeoutMs: 30_000,
        waitUntil: (promise) => handed.push(promise),
      });
      let loads = 0;
      const load = () => (loads += 1);
      await cache.set("s", 1, { ttl: 0, staleWhileRevalidate: 30 });
      expect(await cache.getOrSet("s", load, { staleWhileRevalidate: 30 })).toBe(1);
      // The claim's timer is pending; meanwhile the entry becomes fresh.
      await cache.set("s", 2, { ttl: 60 });
      vi.runOnlyPendingTimers();
      await Promise.all(handed);
      expect(loads).toBe(0);
      expect(await cache.get("s")).toBe(2);
      await cache.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("hands background refreshes to waitUntil", async () => {
    const handed: Promise<unknown>[] = [];
    const cache = createCache({
      redis,
      app: newApp("wait"),
      namespace: "w",
      defaultTtl: 60,
      metrics: false,
      waitUntil: (p) => handed.push(p),
    });
    await cache.set("s", "old", { ttl: 0, staleWhileRevalidate: 60 });
    const before = handed.length;
    expect(
      await cache.getOrSet("s", () => "new", { ttl: "100ms", staleWhileRevalidate: 60, jitter: 0 }),
    ).toBe("old");
    expect(handed.length).toBeGreaterThan(before);
    await Promise.all(handed);
    await eventually(async () => (await cache.get("s", { allowStale: true })) === "new");
  });

  it("reports events for hits, misses, loads and lock waits", async () => {
    const events: CacheEvent[] = [];
    const cache = createCache({
      redis,
      app: newApp("events"),
      namespace: "e",
      defaultTtl: 60,
      metrics: false,
      onEvent: (e) => events.push(e),
    });
    await cache.getOrSet("k", () => 1);
    await cache.getOrSet("k", () => 1);
    await cache.getOrSet("n", () => null);
    await cache.getOrSet("n", () => null);
    await expect(cache.getOrSet("f", () => Promise.reject(new Error("x")))).rejects.toThrow("x");
    const types = events.map((e) => e.type);
    expect(types).toEqual([
      "miss",
      "load",
      "hit",
      "miss",
      "load",
      "negative_hit",
      "miss",
      "load_error",
    ]);
    expect(cache.stats()).toMatchObject({
      hits: 1,
      misses: 3,
      negativeHits: 1,
      loads: 2,
      loadErrors: 1,
      hitRate: 0.4,
    });
  });
});
