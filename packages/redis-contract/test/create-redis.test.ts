import { openTestRedis, testTargets } from "@hotpath/testing";
import { describe, expect, it } from "vitest";
import { RedisClientError, createRedis, redisFromEnv, type HotpathRedis } from "@hotpath/redis";

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

async function withClient<T>(
  redis: HotpathRedis,
  run: (redis: HotpathRedis) => Promise<T>,
): Promise<T> {
  try {
    return await run(redis);
  } finally {
    await redis.close();
  }
}

describe("createRedis", () => {
  it("picks the transport from the URL scheme", async () => {
    const { redisUrl, gatewayUrl, gatewayToken } = testTargets();
    await withClient(createRedis({ url: redisUrl }), async (redis) => {
      expect(redis.transport).toBe("tcp");
      expect(await redis.ping()).toBe("PONG");
    });
    await withClient(createRedis({ url: gatewayUrl, token: gatewayToken }), async (redis) => {
      expect(redis.transport).toBe("rest");
      expect(await redis.ping()).toBe("PONG");
    });
    await withClient(createRedis({ url: "rediss://127.0.0.1:1", timeoutMs: 100 }), (redis) => {
      expect(redis.transport).toBe("tcp");
      return Promise.resolve();
    });
  });

  it.each([
    ["not a url", /Invalid Redis URL "not a url"/],
    ["", /Invalid Redis URL/],
    [
      "ftp://example.com",
      /Unsupported Redis URL scheme "ftp:".*https:\/\/, http:\/\/, redis:\/\/, rediss:\/\/ or redis\+cluster:\/\//,
    ],
    ["unix:///tmp/redis.sock", /Unsupported Redis URL scheme "unix:"/],
    ["https://eu1.upstash.io", /A token is required for the REST URL https:\/\/eu1.upstash.io/],
  ])("rejects %j with REDIS_CONFIG", (url, message) => {
    expect(configError(() => createRedis({ url })).message).toMatch(message);
  });

  it("never puts a password in an error message", () => {
    const error = configError(() => createRedis({ url: "ftp://admin:s3cret@example.com" }));
    expect(error.message).not.toContain("s3cret");
    expect(error.message).toContain("admin:***@");
  });
});

describe("redisFromEnv", () => {
  const { redisUrl, gatewayUrl, gatewayToken } = {
    redisUrl: "redis://127.0.0.1:1",
    gatewayUrl: "http://127.0.0.1:1",
    gatewayToken: "t",
  };

  it("prefers the Upstash REST pair, else REDIS_URL", async () => {
    await withClient(
      redisFromEnv({ UPSTASH_REDIS_REST_URL: gatewayUrl, UPSTASH_REDIS_REST_TOKEN: gatewayToken }),
      (redis) => {
        expect(redis.transport).toBe("rest");
        return Promise.resolve();
      },
    );
    await withClient(
      redisFromEnv({
        UPSTASH_REDIS_REST_URL: gatewayUrl,
        UPSTASH_REDIS_REST_TOKEN: gatewayToken,
        REDIS_URL: redisUrl,
      }),
      (redis) => {
        expect(redis.transport).toBe("rest");
        return Promise.resolve();
      },
    );
    await withClient(redisFromEnv({ REDIS_URL: redisUrl }, { timeoutMs: 100 }), (redis) => {
      expect(redis.transport).toBe("tcp");
      return Promise.resolve();
    });
  });

  it("works end to end against the test Redis and gateway", async () => {
    const targets = testTargets();
    await withClient(redisFromEnv({ REDIS_URL: targets.redisUrl }), async (redis) => {
      expect(await redis.ping()).toBe("PONG");
    });
    await withClient(
      redisFromEnv({
        UPSTASH_REDIS_REST_URL: targets.gatewayUrl,
        UPSTASH_REDIS_REST_TOKEN: targets.gatewayToken,
      }),
      async (redis) => {
        expect(await redis.ping()).toBe("PONG");
      },
    );
  });

  it("names both variables when neither is set (empty strings count as unset)", () => {
    for (const env of [{}, { REDIS_URL: "", UPSTASH_REDIS_REST_URL: "" }]) {
      const error = configError(() => redisFromEnv(env));
      expect(error.message).toContain("UPSTASH_REDIS_REST_URL");
      expect(error.message).toContain("UPSTASH_REDIS_REST_TOKEN");
      expect(error.message).toContain("REDIS_URL");
    }
  });

  it("names the missing token when only the REST URL is set", () => {
    expect(configError(() => redisFromEnv({ UPSTASH_REDIS_REST_URL: gatewayUrl })).message).toMatch(
      /UPSTASH_REDIS_REST_URL is set but UPSTASH_REDIS_REST_TOKEN is not/,
    );
  });
});

describe("health()", () => {
  it.each(["tcp", "rest"] as const)(
    "reports ok with the transport and a latency over %s",
    async (transport) => {
      await withClient(openTestRedis(transport), async (redis) => {
        const health = await redis.health();
        expect(health).toMatchObject({ ok: true, transport });
        expect(health.error).toBeUndefined();
        expect(health.latencyMs).toBeGreaterThanOrEqual(0);
      });
    },
  );

  it("never throws when the REST endpoint is unreachable", async () => {
    await withClient(
      createRedis({ url: "http://127.0.0.1:1", token: "t", timeoutMs: 200 }),
      async (redis) => {
        const health = await redis.health();
        expect(health).toMatchObject({ ok: false, transport: "rest" });
        expect(health.error).toBeTruthy();
      },
    );
  });
});

describe("requester", () => {
  it.each(["tcp", "rest"] as const)(
    "over %s: the client's Requester answers raw commands, breaker included",
    async (transport) => {
      await withClient(openTestRedis(transport), async (redis) => {
        const key = `requester:${transport}:${Date.now()}:${Math.random()}`;
        expect(await redis.requester.request({ body: ["set", key, "42"] })).toMatchObject({
          result: "OK",
        });
        // Raw: the text "42" stays text (the SDK's get() would decode it to the number 42).
        expect(await redis.requester.request({ body: ["get", key] })).toMatchObject({
          result: "42",
        });
        expect(
          await redis.requester.request({
            body: [
              ["incr", key],
              ["get", key],
            ],
            path: ["pipeline"],
          }),
        ).toMatchObject([{ result: 43 }, { result: "43" }]);
        await redis.requester.request({ body: ["del", key] });
        expect(redis.circuit()).toBe("closed");
      });
    },
  );
});
