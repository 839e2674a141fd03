import { startGateway, type RunningGateway } from "@hotpath/gateway";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import {
  TRANSPORTS,
  startRedisServer,
  startTcpProxy,
  uniquePrefix,
  type RedisServerHandle,
  type TcpProxy,
} from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RateLimitUnavailableError,
  createRateLimiter,
  withRateLimit,
  type RateLimitEvent,
  type RateLimitResult,
} from "../src/index.ts";
import { waitFor } from "./helpers.ts";

const POLICIES = {
  open: { limit: 5, window: "1m", algorithm: "fixedWindow" },
  openSliding: { limit: 4, window: "1m", algorithm: "slidingWindow" },
} as const;

const TIMEOUT_MS = 1000;

// Fault tests run on their own redis-server (never the shared one), stopped and restarted by pid.
describe.each(TRANSPORTS)("failure policy over %s (own redis-server)", (transport) => {
  let server: RedisServerHandle;
  let gateway: RunningGateway | undefined;
  let redis: HotpathRedis;

  beforeAll(async () => {
    server = await startRedisServer();
    if (transport === "rest") {
      gateway = await startGateway({ redisUrl: server.url, port: 0, commandTimeoutMs: TIMEOUT_MS });
      redis = createRedis({ url: gateway.url, token: gateway.token, timeoutMs: TIMEOUT_MS });
    } else {
      redis = createRedis({ url: server.url, timeoutMs: TIMEOUT_MS });
    }
    await redis.ping();
  });
  afterAll(async () => {
    await redis.close();
    await gateway?.close();
    await server.stop();
  });

  it("falls back to the insurance limiter, fails AUTH closed, counts and logs every decision, and recovers", async () => {
    const events: RateLimitEvent[] = [];
    const warnings: string[] = [];
    // Injected clock: the insurance limiter's windows never roll over mid-test.
    const now = Date.now();
    const limiter = createRateLimiter({
      now: () => now,
      redis,
      prefix: uniquePrefix(`rl-fault-${transport}`),
      policies: POLICIES,
      timeoutMs: TIMEOUT_MS,
      failure: { breakerMs: 300, retryAfterSeconds: 2 },
      onEvent: (event) => events.push(event),
      logger: { warn: (message) => warnings.push(message) },
      analytics: { flushIntervalMs: 0 },
    });
    expect(await limiter.limit("u", { policy: "open" })).toMatchObject({
      success: true,
      reason: "allowed",
      remaining: 4,
    });
    expect((await limiter.limit("u", { policy: "AUTH" })).reason).toBe("allowed");

    await server.stop({ hard: true });

    // Redis is gone: the insurance limiter decides, with the same limit (5 per minute).
    const during: RateLimitResult[] = [];
    for (let i = 0; i < 6; i++) during.push(await limiter.limit("u", { policy: "open" }));
    expect(during.every((r) => r.reason === "fallback")).toBe(true);
    expect(during.map((r) => r.success)).toEqual([true, true, true, true, true, false]);
    expect(during[5]?.retryAfter).toBeGreaterThanOrEqual(1);
    // Several policies at once fall back together.
    const multi = await limiter.limit("m", { policy: ["open", "openSliding"] });
    expect(multi).toMatchObject({
      success: true,
      reason: "fallback",
      policy: "openSliding",
      remaining: 3,
    });

    // An instance born during the outage: its first read of the deny list fails, then it falls back.
    const fresh = createRateLimiter({
      now: () => now,
      redis,
      prefix: uniquePrefix(`rl-fresh-${transport}`),
      policies: POLICIES,
      timeoutMs: TIMEOUT_MS,
    });
    expect(await fresh.limit("z", { policy: "open" })).toMatchObject({
      success: true,
      reason: "fallback",
    });
    expect(fresh.stats()).toMatchObject({ fallbacks: 1, redisChecks: 0 });

    // AUTH fails closed: a typed error the API maps to 503 + Retry-After.
    const closed = await limiter.limit("u", { policy: "AUTH" }).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(RateLimitUnavailableError);
    expect(closed).toMatchObject({ code: "RATELIMIT_UNAVAILABLE", policy: "AUTH", retryAfter: 2 });
    const response = await withRateLimit(
      limiter,
      new Request("http://x/login", { headers: { "x-real-ip": "192.0.2.3" } }),
      () => new Response("ok"),
      { policy: "AUTH" },
    );
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("2");

    const stats = limiter.stats();
    expect(stats.fallbacks).toBe(7);
    expect(stats.failClosed).toBe(2);
    expect(events.filter((e) => e.type === "fallback")).toHaveLength(6 + 2);
    expect(events.filter((e) => e.type === "failClosed")).toHaveLength(2);
    expect(warnings.filter((w) => w === "ratelimit fallback")).toHaveLength(8);
    expect(stats.redisErrors).toBeGreaterThanOrEqual(1);

    await server.start();
    // Back on Redis once the client has reconnected and the breaker lets a call through.
    const back = await waitFor("Redis to decide again", async () => {
      const result = await limiter.limit("u", { policy: "open" });
      return result.reason === "fallback" ? undefined : result;
    });
    // The restarted server has no data (no persistence): the Redis count starts over.
    expect(back).toMatchObject({ success: true, reason: "allowed", remaining: 4 });
    expect((await limiter.limit("u", { policy: "AUTH" })).reason).toBe("allowed");
    // The fallback decisions were counted in memory during the outage and reach Redis afterwards.
    await limiter.metrics.flush();
    const usage = await limiter.metrics.getUsage();
    // Calls made while the breaker still held Redis off after the restart were fallback decisions too.
    const openFallbacks = events.filter((e) => e.type === "fallback" && e.policy === "open").length;
    expect(openFallbacks).toBeGreaterThanOrEqual(7);
    expect(usage.open?.fallback).toBe(openFallbacks);
    expect(usage.AUTH?.fallback).toBe(2);
  });
});

describe("failure policy: a slow Redis (TCP proxy adding latency)", () => {
  let server: RedisServerHandle;
  let proxy: TcpProxy;
  let redis: HotpathRedis;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startTcpProxy(server.port);
    redis = createRedis({ url: proxy.url, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await redis.close();
    await proxy.close();
    await server.stop();
  });

  it("decides through the fallback once Redis is slower than timeoutMs, with no unhandled rejection", async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: uniquePrefix("rl-slow"),
      policies: POLICIES,
      timeoutMs: 200,
      failure: { breakerMs: 100 },
      analytics: false,
      controls: false,
    });
    expect((await limiter.limit("u", { policy: "open" })).reason).toBe("allowed");
    proxy.setLatency(1500);
    const slow = await limiter.limit("u", { policy: "open" });
    expect(slow).toMatchObject({ success: true, reason: "fallback" });
    proxy.setLatency(0);
    // Once the late replies have drained, Redis decides again (polled, no fixed delay). Each
    // attempt is a new identifier: attempts that timed out still counted in Redis.
    let attempt = 0;
    const back = await waitFor("Redis to decide again", async () => {
      const result = await limiter.limit(`u${attempt++}`, { policy: "open" });
      return result.reason === "fallback" ? undefined : result;
    });
    expect(back.reason).toBe("allowed");
  });

  it("drops a metrics flush that timed out (Redis may have applied it): the decisions count once", async () => {
    const direct = createRedis({ url: server.url, timeoutMs: 5000 });
    const events: RateLimitEvent[] = [];
    const now = Date.now();
    const options = {
      prefix: uniquePrefix("rl-flush"),
      policies: POLICIES,
      analytics: { flushIntervalMs: 3_600_000 },
      controls: false,
      now: () => now,
    } as const;
    const limiter = createRateLimiter({
      ...options,
      redis,
      timeoutMs: 200, // the flush gets twice that: 400 ms
      onEvent: (event) => events.push(event),
    });
    try {
      for (let i = 0; i < 3; i++) await limiter.limit(`f${i}`, { policy: "open" });
      // The flush pipeline reaches Redis only after its deadline: reported as failed, yet applied.
      proxy.setLatency(1500);
      await limiter.metrics.flush();
      expect(events).toContainEqual(
        expect.objectContaining({ type: "redisError", operation: "metrics.flush" }),
      );
      proxy.setLatency(0);
      const reader = createRateLimiter({ ...options, redis: direct });
      await waitFor(
        "the late flush to land",
        async () => (await reader.metrics.getUsage()).open?.allowed === 3,
      );
      // Nothing is left to write again: another flush (and more time) adds nothing.
      await limiter.metrics.flush();
      await limiter.limit("g", { policy: "open" });
      await limiter.metrics.flush();
      expect((await reader.metrics.getUsage()).open).toEqual({
        allowed: 4,
        blocked: 0,
        fallback: 0,
      });
    } finally {
      proxy.setLatency(0);
      await direct.close();
    }
  });
});
