import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type RunningGateway } from "@hotpath/gateway";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import {
  startRedisServer,
  startTcpProxy,
  TRANSPORTS,
  uniquePrefix,
  type RedisServerHandle,
} from "@hotpath/testing";
import { createCache, isCacheError, type CacheEvent } from "../src/index.ts";
import { countRequests, eventually } from "./helpers.ts";

describe.each(TRANSPORTS)("fail-safe when Redis stops mid-test (%s)", (transport) => {
  let server: RedisServerHandle;
  let gateway: RunningGateway | undefined;
  let redis: HotpathRedis;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    server = await startRedisServer();
    if (transport === "rest") {
      gateway = await startGateway({ redisUrl: server.url, port: 0 });
      redis = createRedis({ url: gateway.url, token: gateway.token, timeoutMs: 400 });
    } else {
      redis = createRedis({ url: server.url, timeoutMs: 400 });
    }
  });
  afterAll(async () => {
    process.off("unhandledRejection", onUnhandled);
    await redis.close();
    await gateway?.close();
    await server.stop();
  });

  it("reads fall through to the loader, writes are dropped and reported, nothing throws or hangs, and it recovers", async () => {
    const app = uniquePrefix("fault");
    const cache = createCache({
      redis,
      app,
      namespace: "status",
      defaultTtl: 60,
      timeoutMs: 300,
      metrics: { flushIntervalMs: 50 },
    });
    const local = createCache({
      redis,
      app,
      namespace: "local",
      defaultTtl: 60,
      timeoutMs: 300,
      l1: { ttlMs: 50, bus: false },
      metrics: false,
    });
    let loads = 0;
    const loader = () => {
      loads += 1;
      return `v${loads}`;
    };
    expect(await cache.getOrSet("k", loader)).toBe("v1");
    expect(await local.getOrSet("k", () => "local-1")).toBe("local-1");
    expect(local.stats().l1Entries).toBe(1);

    await server.stop();
    const errorsBefore = cache.stats().redisErrors;
    expect(await cache.getOrSet("k", loader)).toBe("v2");
    expect(await cache.get("k")).toBeUndefined();
    expect(await cache.set("k", "x")).toBe(false);
    expect(await cache.delete("k")).toBe(false);
    expect(await cache.mget(["k", "j"])).toEqual([undefined, undefined]);
    expect(await cache.getOrSet("other", loader, { staleWhileRevalidate: 10 })).toBe("v3");
    expect(cache.stats().redisErrors).toBeGreaterThan(errorsBefore);
    // Circuit breaker: after one failure, Redis is not asked again until it closes.
    const breaker = createCache({
      redis,
      app,
      namespace: "breaker",
      defaultTtl: 60,
      timeoutMs: 300,
      circuitBreakerMs: 60_000,
      metrics: false,
    });
    expect(await breaker.getOrSet("b", () => "loaded-1")).toBe("loaded-1");
    const requests = countRequests(redis);
    expect(await breaker.getOrSet("b", () => "loaded-2")).toBe("loaded-2");
    expect(await breaker.get("b")).toBeUndefined();
    expect(requests.count).toBe(0);
    expect(breaker.stats().redisErrors).toBeGreaterThanOrEqual(3);
    // The L1 still holds a (locally stale) value: it is served while Redis is down.
    expect(await local.getOrSet("k", () => "local-2")).toBe("local-1");
    await cache.flushMetrics();

    await server.start();
    await eventually(async () => (await cache.set("k", "back")) === true, 20_000);
    expect(await cache.get("k")).toBe("back");
    expect(await cache.getOrSet("fresh", loader)).toBe("v4");
    expect(await cache.getOrSet("fresh", loader)).toBe("v4");
    await cache.close();
    await local.close();
    expect(unhandled).toEqual([]);
  }, 60_000);

  it("Redis slower than timeoutMs: reads fall through with a timeout error, no hang", async () => {
    const proxy = await startTcpProxy(server.port);
    const slowGateway =
      transport === "rest" ? await startGateway({ redisUrl: proxy.url, port: 0 }) : undefined;
    const slow = slowGateway
      ? createRedis({ url: slowGateway.url, token: slowGateway.token, timeoutMs: 5000 })
      : createRedis({ url: proxy.url, timeoutMs: 5000 });
    const events: CacheEvent[] = [];
    const cache = createCache({
      redis: slow,
      app: uniquePrefix("slow"),
      namespace: "s",
      defaultTtl: 60,
      timeoutMs: 200,
      circuitBreakerMs: 0,
      metrics: false,
      onEvent: (e) => events.push(e),
    });
    expect(await cache.getOrSet("k", () => "v1")).toBe("v1");
    proxy.setLatency(1500);
    expect(await cache.getOrSet("other", () => "loaded")).toBe("loaded");
    expect(await cache.get("k")).toBeUndefined();
    const timeouts = events.filter(
      (e) => e.type === "redis_error" && isCacheError(e.error, "CACHE_REDIS_TIMEOUT"),
    );
    expect(timeouts.length).toBeGreaterThanOrEqual(2);
    proxy.setLatency(0);
    // Replies still delayed in the proxy drain first (FIFO): a ping answering means they are in.
    await eventually(
      () =>
        slow.ping().then(
          () => true,
          () => false,
        ),
      20_000,
    );
    await cache.close();
    await slow.close();
    await slowGateway?.close();
    await proxy.close();
    expect(unhandled).toEqual([]);
  }, 60_000);
});
