import { describe, expect, it } from "vitest";
import { z } from "zod";
import { openTestRedis, TRANSPORTS } from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import { buildKey, metricsMinuteKey, minuteBucket } from "@hotpath/config";
import {
  cacheEntryKey,
  createCache,
  isCacheError,
  readCacheMetrics,
  type CacheEvent,
} from "../src/index.ts";
import { countRequests, eventually, gate, useTestApps, renewalsSeen } from "./helpers.ts";

describe.each(TRANSPORTS)("cache engine over %s", (transport) => {
  let redis: HotpathRedis;
  // guardSlots: every script, MULTI and multi-key command must stay in one cluster slot.
  const { newApp } = useTestApps(transport, (client) => (redis = client), { guardSlots: true });

  it("get/set/delete/exists/ttl round-trip values and keep Date, Map, Set, BigInt", async () => {
    const cache = createCache({
      redis,
      app: newApp("basic"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
    });
    expect(await cache.get("a")).toBeUndefined();
    const value = {
      when: new Date("2026-01-02T03:04:05Z"),
      map: new Map([["k", 1]]),
      set: new Set([1, 2]),
      big: 2n ** 70n,
    };
    expect(await cache.set("a", value)).toBe(true);
    expect(await cache.get("a")).toEqual(value);
    expect(await cache.exists("a")).toBe(true);
    const ttl = await cache.ttl("a");
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await cache.delete("a")).toBe(true);
    expect(await cache.get("a")).toBeUndefined();
    expect(await cache.exists("a")).toBe(false);
    expect(await cache.ttl("a")).toBeNull();
    expect(await cache.delete("a")).toBe(false);
  });

  it("getOrSet loads once (3 round trips), then hits in ONE round trip (one GET)", async () => {
    const cache = createCache({
      redis,
      app: newApp("gos"),
      namespace: "status",
      defaultTtl: 60,
      metrics: false,
    });
    let calls = 0;
    const load = () => {
      calls += 1;
      return { ok: true, n: calls };
    };
    // The first script call of a client on a Redis that never saw the script costs one more
    // request (EVALSHA answers NOSCRIPT, then EVAL): load the scripts on another key first, so
    // the count below does not depend on what the server ran before.
    await cache.getOrSet("warm-up", () => 0);
    calls = 0;
    const requests = countRequests(redis);
    expect(await cache.getOrSet("k", load)).toEqual({ ok: true, n: 1 });
    // Miss: GET, then claim the lease (script), then store + release (script).
    expect(requests.count).toBe(3);
    requests.reset();
    expect(await cache.getOrSet("k", load)).toEqual({ ok: true, n: 1 });
    expect(requests.count).toBe(1);
    expect((requests.bodies[0] as string[])[0]).toBe("GET");
    expect(calls).toBe(1);
  });

  it("keys are built with the config key builder and escaped", async () => {
    const app = newApp("keys");
    const cache = createCache({ redis, app, namespace: "user", defaultTtl: 60, metrics: false });
    await cache.set(["profile", "a:b*"], 1);
    const key = cacheEntryKey(app, "user", ["profile", "a:b*"]);
    // The entry's slot group is a hash tag of the namespace and a number from the key's CRC16.
    expect(key).toMatch(new RegExp(`^${app}:cache:user:v:\\{user:\\d+\\}:profile:a%3Ab%2A$`));
    expect(await redis.exists(key)).toBe(1);
  });

  it("a value failing its schema is a miss, reported and replaced", async () => {
    const events: CacheEvent[] = [];
    const cache = createCache({
      redis,
      app: newApp("schema"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      onEvent: (e) => events.push(e),
    });
    await cache.set("u", { name: 42 });
    const schema = z.object({ name: z.string() });
    expect(await cache.get("u", { schema })).toBeUndefined();
    expect(events.some((e) => e.type === "invalid_value" && e.reason.includes("name"))).toBe(true);
    const value = await cache.getOrSet("u", () => ({ name: "Ada" }), { schema });
    expect(value).toEqual({ name: "Ada" });
    expect(await cache.get("u", { schema })).toEqual({ name: "Ada" });
  });

  it("invalid cached JSON is a miss", async () => {
    const app = newApp("badjson");
    const cache = createCache({ redis, app, namespace: "user", defaultTtl: 60, metrics: false });
    const key = cacheEntryKey(app, "user", "x");
    await redis.set(key, `H1|${Date.now() + 60_000}|${Date.now() + 60_000}|0|v|j{not json`);
    expect(await cache.get("x")).toBeUndefined();
    await redis.set(key, "garbage");
    expect(await cache.get("x")).toBeUndefined();
    expect(await cache.getOrSet("x", () => "fresh")).toBe("fresh");
    expect(await cache.get("x")).toBe("fresh");
  });

  it("negative caching: null is cached with its own TTL and distinguishable from a miss", async () => {
    const cache = createCache({
      redis,
      app: newApp("neg"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
    });
    let calls = 0;
    const load = () => {
      calls += 1;
      return null;
    };
    expect(await cache.getOrSet("nobody", load, { negativeTtl: 5 })).toBeNull();
    expect(await cache.getOrSet("nobody", load, { negativeTtl: 5 })).toBeNull();
    expect(calls).toBe(1);
    expect(await cache.get("nobody")).toBeNull();
    expect(await cache.get("missing")).toBeUndefined();
    expect(await cache.ttl("nobody")).toBeLessThanOrEqual(5);
    expect(cache.stats().negativeHits).toBeGreaterThanOrEqual(2);
  });

  it("refuses values over maxEntryBytes with a clear error", async () => {
    const cache = createCache({
      redis,
      app: newApp("size"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      maxEntryBytes: 1000,
    });
    await expect(cache.set("big", "x".repeat(2000))).rejects.toSatisfy((e) =>
      isCacheError(e, "CACHE_VALUE_TOO_LARGE"),
    );
    const events: CacheEvent[] = [];
    const cache2 = createCache({
      redis,
      app: newApp("size2"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      maxEntryBytes: 1000,
      onEvent: (e) => events.push(e),
    });
    expect(await cache2.getOrSet("big", () => "y".repeat(2000))).toHaveLength(2000);
    expect(events.some((e) => e.type === "write_refused")).toBe(true);
    expect(await cache2.get("big")).toBeUndefined();
  });

  it("in-process single-flight: concurrent misses call the loader once", async () => {
    const cache = createCache({
      redis,
      app: newApp("sf"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
    });
    let calls = 0;
    const release = gate();
    const pending = Promise.all(
      Array.from({ length: 50 }, () =>
        cache.getOrSet("k", async () => {
          calls += 1;
          await release.promise;
          return "v";
        }),
      ),
    );
    await eventually(() => calls === 1);
    release.open();
    const results = await pending;
    expect(new Set(results)).toEqual(new Set(["v"]));
    expect(calls).toBe(1);
  });

  it("distributed single-flight: two cache instances, one loader call", async () => {
    const app = newApp("dsf");
    const a = createCache({ redis, app, namespace: "user", defaultTtl: 60, metrics: false });
    const other = openTestRedis(transport, { guardSlots: true });
    const b = createCache({ redis: other, app, namespace: "user", defaultTtl: 60, metrics: false });
    let calls = 0;
    const release = gate();
    const load = async () => {
      calls += 1;
      await release.promise;
      return "v";
    };
    // a loads (holding the lease); b finds the lease taken and waits for a's value.
    const first = a.getOrSet("k", load);
    await eventually(() => calls === 1);
    const second = b.getOrSet("k", load);
    await eventually(() => b.stats().lockWaits === 1);
    release.open();
    const [x, y] = await Promise.all([first, second]);
    expect([x, y]).toEqual(["v", "v"]);
    expect(calls).toBe(1);
    expect(a.stats().lockWaits + b.stats().lockWaits).toBe(1);
    await other.close();
  });

  it("distributed single-flight: the lease is renewed while a slow loader runs", async () => {
    const app = newApp("lease");
    const a = createCache({ redis, app, namespace: "user", defaultTtl: 60, metrics: false });
    const other = openTestRedis(transport, { guardSlots: true });
    const b = createCache({ redis: other, app, namespace: "user", defaultTtl: 60, metrics: false });
    let calls = 0;
    const release = gate();
    const slow = async () => {
      calls += 1;
      await release.promise;
      return "v";
    };
    const options = { lock: { leaseMs: 1000, waitMs: 30_000 } };
    const first = a.getOrSet("k", slow, options);
    await eventually(() => calls === 1);
    const second = b.getOrSet("k", slow, options);
    // Watch the lease's TTL go back up three times: the original lease is long over, yet b waits.
    const lease = cacheEntryKey(app, "user", "k").replace(
      `${buildKey(app, "cache", "user", "v")}:`,
      `${buildKey(app, "lock", "cache", "user")}:`,
    );
    await renewalsSeen(redis, lease);
    expect(calls).toBe(1);
    release.open();
    expect(await Promise.all([first, second])).toEqual(["v", "v"]);
    expect(calls).toBe(1);
    await other.close();
  });

  it("stale-while-revalidate: serves stale in one round trip while one refresh runs", async () => {
    // What the cache reported besides hits: a refresh that never lands says why (refused, error).
    const events: string[] = [];
    const cache = createCache({
      redis,
      app: newApp("swr"),
      namespace: "status",
      defaultTtl: 60,
      metrics: false,
      // What is tested is one refresh behind stale reads, not timeouts: on a loaded machine a
      // Redis call can exceed the 500 ms default, and the refresh's write would then be dropped
      // (the failure policy), leaving the stale value in place for good.
      timeoutMs: 30_000,
      onEvent: (event) => {
        if (event.type !== "hit" && event.type !== "stale_hit") events.push(event.type);
      },
    });
    let version = 1;
    let running = 0;
    let maxRunning = 0;
    const release = gate();
    const load = async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await release.promise;
      running -= 1;
      version += 1;
      return version;
    };
    const options = { ttl: 60, staleWhileRevalidate: 30, jitter: 0 };
    // An entry already past its fresh TTL, within its stale window (no clock to wait for).
    await cache.set("s", 1, { ttl: 0, staleWhileRevalidate: 30 });
    const requests = countRequests(redis);
    const stale = await cache.getOrSet("s", load, options);
    expect(stale).toBe(1);
    expect(requests.count).toBe(1);
    // More stale readers while the refresh runs: still stale, no second refresh.
    expect(await Promise.all([1, 2, 3].map(() => cache.getOrSet("s", load, options)))).toEqual([
      1, 1, 1,
    ]);
    await eventually(() => running === 1);
    release.open();
    await eventually(async () => (await cache.get("s", { allowStale: true })) === 2, 20_000).catch(
      (error: unknown) => {
        throw new Error(`the refresh did not land; cache events: ${events.join(", ")}`, {
          cause: error,
        });
      },
    );
    expect(maxRunning).toBe(1);
    expect(version).toBe(2);
    expect(cache.stats().staleHits).toBeGreaterThanOrEqual(1);
  });

  it("SWR: a failing refresh keeps serving stale within the window", async () => {
    const cache = createCache({
      redis,
      app: newApp("swrfail"),
      namespace: "status",
      defaultTtl: 60,
      metrics: false,
    });
    const options = { ttl: 60, staleWhileRevalidate: 30, jitter: 0 };
    await cache.set("s", "old", { ttl: 0, staleWhileRevalidate: 30 });
    let failures = 0;
    const failing = () => {
      failures += 1;
      throw new Error("db down");
    };
    expect(await cache.getOrSet("s", failing, options)).toBe("old");
    await eventually(() => failures === 1);
    await eventually(() => cache.stats().loadErrors === 1);
    expect(await cache.getOrSet("s", failing, options)).toBe("old");
  });

  it("tags: invalidateTag removes every entry carrying the tag", async () => {
    const cache = createCache({
      redis,
      app: newApp("tags"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
    });
    await cache.set("a", 1, { tags: ["team:1"] });
    await cache.set("b", 2, { tags: ["team:1", "x"] });
    await cache.getOrSet("c", () => 3, { tags: ["team:1"] });
    await cache.set("d", 4, { tags: ["team:2"] });
    expect(await cache.invalidateTag("team:1")).toBe(3);
    expect(await cache.mget(["a", "b", "c", "d"])).toEqual([undefined, undefined, undefined, 4]);
  });

  it("invalidatePattern scans with escaped parts and unlinks in batches", async () => {
    const cache = createCache({
      redis,
      app: newApp("pattern"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      // Scanning and unlinking is tested, not timeouts: on a loaded machine a 1200-entry write
      // can exceed the 500 ms default, and a write past its deadline is reported as not done.
      timeoutMs: 30_000,
    });
    expect(
      await cache.mset(Array.from({ length: 1200 }, (_, i) => ({ key: `user:${i}`, value: i }))),
    ).toBe(true);
    await cache.set("user*x", "literal");
    await cache.set(["other", 1], "keep");
    expect(await cache.invalidatePattern("user:*")).toBe(1200);
    expect(await cache.get("user*x")).toBe("literal");
    expect(await cache.get(["other", 1])).toBe("keep");
    expect(await cache.invalidatePattern(["other", "*"])).toBe(0);
  });

  it("mset larger than one REST request body (1 MiB at the gateway) is sent in several requests", async () => {
    const cache = createCache({
      redis,
      app: newApp("big-mset"),
      namespace: "blob",
      defaultTtl: 60,
      metrics: false,
    });
    const value = "x".repeat(400 * 1024);
    const entries = Array.from({ length: 4 }, (_, i) => ({ key: `b${i}`, value: `${i}${value}` }));
    await cache.mset(entries);
    for (const entry of entries) expect(await cache.get(entry.key)).toBe(entry.value);
  });

  it("mget/mset, hash helpers, counters and cached()", async () => {
    const cache = createCache({
      redis,
      app: newApp("misc"),
      namespace: "api",
      defaultTtl: 60,
      metrics: false,
    });
    expect(
      await cache.mset([
        { key: "a", value: 1 },
        { key: "b", value: { x: new Date(0) } },
      ]),
    ).toBe(true);
    expect(await cache.mget(["a", "b", "zz"])).toEqual([1, { x: new Date(0) }, undefined]);
    expect(await cache.hashSet("h", { a: 1, b: "two", c: new Set([3]) }, { ttl: 60 })).toBe(true);
    expect(await cache.hashGet("h", "b")).toBe("two");
    expect(await cache.hashGet("h", "nope")).toBeUndefined();
    expect(await cache.hashGetAll("h")).toEqual({ a: 1, b: "two", c: new Set([3]) });
    expect(await cache.increment("views")).toBe(1);
    expect(await cache.increment("views", 5, { ttl: 60 })).toBe(6);
    expect(await cache.decrement("views", 2)).toBe(4);
    let calls = 0;
    const square = cache.cached(
      (n: number) => {
        calls += 1;
        return n * n;
      },
      { key: (n) => ["square", n], ttl: 60 },
    );
    expect(await square(4)).toBe(16);
    expect(await square(4)).toBe(16);
    expect(await square(5)).toBe(25);
    expect(calls).toBe(2);
  });

  it("metrics are aggregated per minute per namespace in Redis and readable", async () => {
    const app = newApp("metrics");
    const cache = createCache({
      redis,
      app,
      namespace: "user",
      defaultTtl: 60,
      metrics: { flushIntervalMs: 0 },
    });
    await cache.getOrSet("k", () => 1);
    await cache.getOrSet("k", () => 1);
    await cache.get("none");
    await cache.flushMetrics();
    const rows = await readCacheMetrics(redis, { app, sinceMs: Date.now() - 120_000 });
    const sum = (name: "cache_hits_total" | "cache_misses_total" | "cache_loads_total") =>
      rows.filter((r) => r.namespace === "user").reduce((n, r) => n + r.counters[name], 0);
    expect(sum("cache_hits_total")).toBe(1);
    expect(sum("cache_misses_total")).toBe(2);
    expect(sum("cache_loads_total")).toBe(1);
    expect(
      await redis.ttl(metricsMinuteKey(app, "cache", minuteBucket(Date.now()))),
    ).toBeGreaterThan(0);
  });

  it("serverless: with waitUntil, one burst of events is flushed in one background pipeline", async () => {
    const app = newApp("metrics-wait");
    const handed: Promise<unknown>[] = [];
    const cache = createCache({
      redis,
      app,
      namespace: "user",
      defaultTtl: 60,
      waitUntil: (p) => handed.push(p),
    });
    await cache.set("k", 1);
    const requests = countRequests(redis);
    await Promise.all([cache.getOrSet("k", () => 1), cache.get("k"), cache.get("none")]);
    expect(handed.length).toBeGreaterThan(0);
    await Promise.all(handed);
    // Three reads, and the metrics only as background pipelines of HINCRBY/EXPIRE (no per-event
    // command). Over REST the three concurrent reads share one HTTP request (one /pipeline).
    const bodies = requests.bodies as unknown[][];
    const isPipeline = (body: unknown[]) => Array.isArray(body[0]);
    const commands = bodies.flatMap((body) =>
      isPipeline(body) ? (body as string[][]) : [body as string[]],
    );
    expect(commands.filter((command) => command[0] === "GET")).toHaveLength(3);
    const metrics = bodies.filter(
      (body) => isPipeline(body) && (body as string[][]).every((c) => c[0] !== "GET"),
    ) as string[][][];
    expect(metrics.length).toBeGreaterThanOrEqual(1);
    expect(metrics.length).toBeLessThanOrEqual(3);
    for (const pipeline of metrics)
      for (const command of pipeline) expect(["HINCRBY", "EXPIRE"]).toContain(command[0]);
    expect(requests.count).toBe(metrics.length + (transport === "rest" ? 1 : 3));
    const rows = await readCacheMetrics(redis, { app, sinceMs: Date.now() - 120_000 });
    expect(rows.reduce((n, r) => n + r.counters.cache_hits_total, 0)).toBe(2);
    await cache.close();
  });

  it("metrics do not add a synchronous round trip", async () => {
    const app = newApp("metrics2");
    // A client of its own: other tests' caches flush their metrics through the shared one.
    const own = openTestRedis(transport, { guardSlots: true });
    const cache = createCache({
      redis: own,
      app,
      namespace: "user",
      defaultTtl: 60,
      metrics: { flushIntervalMs: 60_000 },
    });
    await cache.set("k", 1);
    const requests = countRequests(own);
    for (let i = 0; i < 5; i += 1) await cache.getOrSet("k", () => 1);
    expect(requests.count).toBe(5);
    await cache.close();
    expect(requests.count).toBe(6);
    await own.close();
  });
});
