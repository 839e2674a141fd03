import { describe, expect, it } from "vitest";
import { buildKey, hashTag } from "@hotpath/config";
import type { HotpathRedis } from "@hotpath/redis";
import { TRANSPORTS } from "@hotpath/testing";
import {
  cacheEntryKey,
  createCache,
  createIdempotencyStore,
  createLocks,
  isCacheError,
} from "../src/index.ts";
import { countRequests, useTestApps } from "./helpers.ts";

describe.each(TRANSPORTS)("command errors are bugs, not outages (%s)", (transport) => {
  let redis: HotpathRedis;
  const { newApp } = useTestApps(transport, (client) => (redis = client));

  it("a WRONGTYPE read surfaces as a typed 500 error and does not open the circuit breaker", async () => {
    const app = newApp("wrongtype");
    const cache = createCache({ redis, app, namespace: "user", defaultTtl: 60, metrics: false });
    await redis.hset(cacheEntryKey(app, "user", "k"), { not: "an entry" });
    let loads = 0;
    const error: unknown = await cache.getOrSet("k", () => (loads += 1)).catch((e: unknown) => e);
    expect(isCacheError(error, "CACHE_REDIS_ERROR")).toBe(true);
    expect(error).toMatchObject({ status: 500, retryAfter: undefined });
    expect(loads).toBe(0);
    await expect(cache.get("k")).rejects.toMatchObject({ code: "CACHE_REDIS_ERROR", status: 500 });
    // Redis is up: the next call still asks it (no breaker, no fallback).
    const requests = countRequests(redis);
    expect(await cache.getOrSet("other", () => "loaded")).toBe("loaded");
    expect(requests.count).toBeGreaterThan(0);
    await cache.close();
  });

  it("idempotency and locks answer 500 (not 503 + Retry-After) for a command error", async () => {
    const app = newApp("wrongtype-coord");
    const store = createIdempotencyStore({ redis, app, metrics: false });
    await redis.set(buildKey(app, "idem", "default", "u", "k"), "a string, not a hash");
    let ran = false;
    await expect(
      store.runIdempotent("k", "fp", () => (ran = true), { principal: "u" }),
    ).rejects.toMatchObject({ code: "CACHE_REDIS_ERROR", status: 500 });
    expect(ran).toBe(false);
    const locks = createLocks({ redis, app, metrics: false });
    await redis.hset(buildKey(app, "lock", "f", hashTag("job")), { not: "a counter" });
    await expect(locks.acquireLock("job")).rejects.toMatchObject({
      code: "CACHE_REDIS_ERROR",
      status: 500,
    });
  });
});
