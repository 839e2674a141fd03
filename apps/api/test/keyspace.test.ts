import { deletePrefix, openTestRedis, TRANSPORTS, uniquePrefix } from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import type { Requester } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleKeyDistribution } from "../src/adapters/keyspace.ts";

const VALUE = "x".repeat(1000);

describe.each(TRANSPORTS)("memory per key area over %s", (transport) => {
  let redis: HotpathRedis;
  const app = uniquePrefix("mem").replace(/[^A-Za-z0-9_]/g, "_");

  beforeAll(async () => {
    redis = openTestRedis(transport);
    const pipeline = redis.pipeline();
    for (let i = 0; i < 40; i++) pipeline.set(`${app}:cache:user:v:${i}`, VALUE);
    for (let i = 0; i < 5; i++) pipeline.set(`${app}:count:tips:${i}`, "1");
    await pipeline.exec();
  });
  afterAll(async () => {
    await deletePrefix(redis, `${app}:`);
    await redis.close();
  });

  it("measures MEMORY USAGE on a bounded sample per area and extrapolates to the area's keys", async () => {
    const distribution = await sampleKeyDistribution(redis, app, {
      sample: 1000,
      memoryKeysPerArea: 8,
    });
    expect(distribution.byArea).toEqual({ cache: 40, count: 5 });
    expect(distribution.memory.available).toBe(true);
    if (!distribution.memory.available) return;
    const cache = distribution.memory.areas.cache;
    const count = distribution.memory.areas.count;
    expect(distribution.memory.keysPerArea).toBe(8);
    expect(cache?.measuredKeys).toBe(8);
    expect(count?.measuredKeys).toBe(5);
    // Each cached value holds 1000 bytes: Redis reports at least that per key, the counters far less.
    expect(cache?.measuredBytes).toBeGreaterThanOrEqual(8 * 1000);
    expect(count?.measuredBytes).toBeLessThan(5 * 1000);
    expect(cache?.estimatedBytes).toBe(Math.round(((cache?.measuredBytes ?? 0) / 8) * 40));
    expect(count?.estimatedBytes).toBe(count?.measuredBytes);
  });
});

describe("memory where the transport refuses MEMORY USAGE", () => {
  let redis: HotpathRedis;
  const app = uniquePrefix("memno").replace(/[^A-Za-z0-9_]/g, "_");

  beforeAll(async () => {
    redis = openTestRedis("tcp");
    await redis.set(`${app}:cache:user:v:1`, VALUE);
  });
  afterAll(async () => {
    await deletePrefix(redis, `${app}:`);
    await redis.close();
  });

  /** The same client, whose requester answers MEMORY the way a REST service without it does. */
  function refusingMemory(mode: "item" | "request"): HotpathRedis {
    const refusing: Requester = {
      request: (req) => {
        const body = req.body as unknown[][];
        if (req.path?.[0] === "pipeline" && body.some((c) => c[0] === "MEMORY")) {
          if (mode === "request")
            return Promise.reject(new Error("ERR Command is not available: 'MEMORY'"));
          return Promise.resolve(
            body.map(() => ({ error: "ERR Command is not available: 'MEMORY'" })) as never,
          );
        }
        return redis.requester.request(req);
      },
    };
    return Object.assign(Object.create(redis) as HotpathRedis, { requester: refusing });
  }

  it.each(["item", "request"] as const)(
    "says not available with the reason (refused per %s), never a number",
    async (mode) => {
      const distribution = await sampleKeyDistribution(refusingMemory(mode), app, { sample: 100 });
      expect(distribution.byArea).toEqual({ cache: 1 });
      expect(distribution.memory).toEqual({
        available: false,
        reason: expect.stringContaining("not available: 'MEMORY'") as unknown,
      });
    },
  );
});
