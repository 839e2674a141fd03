import { testTargets, uniquePrefix } from "@hotpath/testing";
import { describe, expect, it } from "vitest";
import { RedisClientError, createRedis, redisFromEnv } from "@hotpath/redis/rest";

function configError(run: () => unknown): RedisClientError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RedisClientError);
    expect((error as RedisClientError).code).toBe("REDIS_CONFIG");
    return error as RedisClientError;
  }
  throw new Error("expected a REDIS_CONFIG error");
}

describe("@hotpath/redis/rest (the build for edge runtimes: no TCP client)", () => {
  it("talks the Upstash REST API, UTF-8 values and auto-pipelining included", async () => {
    const { gatewayUrl, gatewayToken } = testTargets();
    const redis = redisFromEnv(
      { UPSTASH_REDIS_REST_URL: gatewayUrl, UPSTASH_REDIS_REST_TOKEN: gatewayToken },
      { timeoutMs: 5000 },
    );
    const key = `${uniquePrefix("rest-entry")}:value`;
    try {
      expect(redis.transport).toBe("rest");
      const text = "Grüße, 世界 — ✓";
      const [set, read] = await Promise.all([redis.set(key, text, { ex: 60 }), redis.get(key)]);
      expect(set).toBe("OK");
      expect(read).toBe(text);
      expect(await redis.del(key)).toBe(1);
    } finally {
      await redis.close();
    }
  });

  it.each([
    "redis://127.0.0.1:6379",
    "rediss://user:s3cret@example.com:6380",
    "redis+cluster://a:1,b:2",
  ])("refuses the TCP URL %s with REDIS_CONFIG pointing to the REST URL", (url) => {
    const error = configError(() => createRedis({ url }));
    expect(error.message).toMatch(/needs a TCP connection.*REST URL/);
    expect(error.message).not.toContain("s3cret");
  });

  it("refuses an environment with only REDIS_URL", () => {
    expect(
      configError(() => redisFromEnv({ REDIS_URL: "redis://127.0.0.1:6379" })).message,
    ).toMatch(/needs a TCP connection/);
  });
});
