import { CacheError, RedisUnavailableError } from "@hotpath/cache";
import { createRedis, RedisClientError, type HotpathRedis } from "@hotpath/redis";
import { freePort } from "@hotpath/testing";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContextInner } from "../src/trpc/context.ts";
import { isUnavailableError } from "../src/trpc/errors.ts";
import { router } from "../src/trpc/init.ts";
import { publicProcedure } from "../src/trpc/procedures.ts";
import { openTestApi, type TestApi } from "./helpers/runtime.ts";

interface ErrorBody {
  error: { message: string; data: { httpStatus: number; errorCode: string | null } };
}

// Command errors (WRONGTYPE, a Lua error) are bugs: 500 with a clear code. Only a dependency
// that does not answer is an outage: 503 + Retry-After.
describe("error mapping: command errors are 500, outages 503", () => {
  let t: TestApi;
  let deadRedis: HotpathRedis;
  let wrongTypeKey: string;
  let fail: () => Promise<unknown> = () => Promise.resolve();

  const probe = router({
    run: publicProcedure.query(async () => {
      await fail();
      return { ok: true };
    }),
  });

  const call = async (thrower: () => Promise<unknown>) => {
    fail = thrower;
    const request = new Request("http://api.test/trpc/run");
    const response = await fetchRequestHandler({
      endpoint: "/trpc",
      req: request,
      router: probe,
      createContext: ({ resHeaders }) =>
        createContextInner({ deps: t.runtime.deps, headers: request.headers, resHeaders }),
    });
    return { response, body: (await response.json()) as ErrorBody };
  };

  beforeAll(async () => {
    t = await openTestApi();
    wrongTypeKey = `${t.app}:probe:wrongtype`;
    await t.redis.set(wrongTypeKey, "a string");
    deadRedis = createRedis({ url: `redis://127.0.0.1:${await freePort()}`, timeoutMs: 300 });
  });
  afterAll(async () => {
    await deadRedis?.close();
    await t?.close();
  });

  it("a real WRONGTYPE from Redis -> 500, no Retry-After", async () => {
    const { response, body } = await call(() => t.redis.hgetall(wrongTypeKey));
    expect(response.status).toBe(500);
    expect(response.headers.get("retry-after")).toBeNull();
    expect(body.error.message).toBe("Internal server error");
  });

  it("a cache command error (even one carrying status 503) -> 500 with its code", async () => {
    const { response, body } = await call(() =>
      Promise.reject(
        new RedisUnavailableError(
          "CACHE_REDIS_ERROR",
          "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
      ),
    );
    expect(response.status).toBe(500);
    expect(response.headers.get("retry-after")).toBeNull();
    expect(body.error.data.errorCode).toBe("CACHE_REDIS_ERROR");

    const lua = await call(() =>
      Promise.reject(
        new CacheError("CACHE_REDIS_ERROR", "ERR user_script:1: Script attempted to access…", {
          status: 503,
          retryAfter: 1,
        }),
      ),
    );
    expect(lua.response.status).toBe(500);
    expect(lua.response.headers.get("retry-after")).toBeNull();
    const rejected = await call(() =>
      Promise.reject(new RedisClientError("REDIS_COMMAND_REJECTED", "ERR unknown command")),
    );
    expect(rejected.response.status).toBe(500);
    expect(rejected.body.error.data.errorCode).toBe("REDIS_COMMAND_REJECTED");
  });

  it("Redis not answering -> 503 with Retry-After", async () => {
    const down = await call(() =>
      Promise.reject(new RedisUnavailableError("CACHE_REDIS_UNAVAILABLE", "Redis is down")),
    );
    expect(down.response.status).toBe(503);
    expect(down.response.headers.get("retry-after")).toBe("1");
    expect(down.body.error.data.errorCode).toBe("CACHE_REDIS_UNAVAILABLE");
    // A real refused connection, as the client reports it.
    const refused = await call(() => deadRedis.get("any"));
    expect(refused.response.status).toBe(503);
  });

  it("classifies by code and cause chain", () => {
    const coded = (code: string, cause?: unknown) =>
      Object.assign(new Error(code, { cause }), { code });
    for (const code of [
      "REDIS_UNAVAILABLE",
      "REDIS_TIMEOUT",
      "CACHE_REDIS_UNAVAILABLE",
      "CACHE_REDIS_TIMEOUT",
      "LOCK_UNAVAILABLE",
      "LOCK_NOT_ACQUIRED",
      "IDEMPOTENCY_UNAVAILABLE",
      "RATELIMIT_UNAVAILABLE",
      "ECONNREFUSED",
      "ECONNRESET",
    ])
      expect(isUnavailableError(coded(code)), code).toBe(true);
    for (const code of [
      "CACHE_REDIS_ERROR",
      "REDIS_COMMAND_REJECTED",
      "REDIS_BAD_COMMAND",
      "CACHE_SERIALIZATION",
      "IDEMPOTENCY_STORED_ERROR",
    ])
      expect(isUnavailableError(coded(code)), code).toBe(false);
    expect(isUnavailableError(coded("WRAPPED", coded("REDIS_TIMEOUT")))).toBe(true);
    expect(isUnavailableError(new Error("WRONGTYPE"))).toBe(false);
  });
});
