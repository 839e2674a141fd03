import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HotpathRedis } from "@hotpath/redis";
import { buildKey } from "@hotpath/config";
import {
  deletePrefix,
  openTestRedis,
  testTargets,
  TRANSPORTS,
  uniquePrefix,
} from "@hotpath/testing";
import type { CacheStats } from "../src/index.ts";
import { runChildren } from "./processes.ts";

describe.each(TRANSPORTS)("distributed single-flight across processes over %s", (transport) => {
  let redis: HotpathRedis;
  const app = uniquePrefix(`stampede-${transport}`);
  beforeAll(() => {
    redis = openTestRedis(transport);
  });
  afterAll(async () => {
    await deletePrefix(redis, `${app}:`);
    await redis.close();
  });

  it("500 concurrent getOrSet misses on one key across 4 processes -> exactly 1 loader call", async () => {
    const targets = testTargets();
    const counterKey = buildKey(app, "count", "loader-calls");
    const results = await runChildren<{ ok: number; failed: number; stats: CacheStats }>(
      "fixtures/stampede-child.ts",
      4,
      {
        url: transport === "tcp" ? targets.redisUrl : targets.gatewayUrl,
        token: transport === "tcp" ? undefined : targets.gatewayToken,
        app,
        key: "hot",
        counterKey,
        concurrency: 125,
        loaderMs: 300,
      },
    );
    expect(results.reduce((n, r) => n + r.ok, 0)).toBe(500);
    expect(Number(await redis.get(counterKey))).toBe(1);
    expect(results.reduce((n, r) => n + r.stats.loads, 0)).toBe(1);
    expect(results.reduce((n, r) => n + r.stats.lockWaits, 0)).toBe(3);
  }, 90_000);
});
