import { startGateway, type RunningGateway } from "@hotpath/gateway";
import {
  TRANSPORTS,
  startRedisServer,
  startTcpProxy,
  type RedisServerHandle,
  type TcpProxy,
} from "@hotpath/testing";
import { Redis as IORedis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedis, type HotpathRedis, type RedisTransport } from "@hotpath/redis";

// Own redis-server behind a proxy the test controls; the REST client goes through a gateway
// whose Redis connection runs through the same proxy.
let server: RedisServerHandle;
let proxy: TcpProxy;
let gateway: RunningGateway;
let admin: IORedis;
const opened: HotpathRedis[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startTcpProxy(server.port);
  gateway = await startGateway({ redisUrl: proxy.url, port: 0 });
  admin = new IORedis(server.url, { maxRetriesPerRequest: 1 });
});

afterEach(() => {
  proxy.setLatency(0);
  proxy.restore();
});

afterAll(async () => {
  await Promise.all(opened.map((redis) => redis.close()));
  admin.disconnect();
  await gateway.close();
  await proxy.close();
  await server.stop();
});

function open(transport: RedisTransport, timeoutMs: number): HotpathRedis {
  const redis =
    transport === "tcp"
      ? createRedis({ url: proxy.url, timeoutMs, breaker: { probeIntervalMs: 50 } })
      : createRedis({
          url: gateway.url,
          token: gateway.token,
          timeoutMs,
          breaker: { probeIntervalMs: 50 },
        });
  opened.push(redis);
  return redis;
}

/** Polls `check` until it holds; fails after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(TRANSPORTS)("circuit breaker over %s", (transport) => {
  it("after a timeout, calls are refused without being sent until Redis answers again", async () => {
    const redis = open(transport, 300);
    const key = `breaker:${transport}:slow`;
    // Warm the connection first: on a loaded machine the first request (a new connection to
    // the gateway) can take longer than 300 ms, and that is not what this test is about.
    await until(
      async () => (await redis.ping().catch(() => "")) === "PONG" && redis.circuit() === "closed",
      10_000,
    );
    await admin.del(key);
    expect(await redis.incr(key)).toBe(1);
    proxy.setLatency(1500);
    await expect(redis.incr(key)).rejects.toMatchObject({ code: "REDIS_TIMEOUT" });
    expect(redis.circuit()).toBe("open");
    for (let i = 0; i < 10; i += 1) {
      await expect(redis.incr(key)).rejects.toMatchObject({
        code: "REDIS_UNAVAILABLE",
        message: expect.stringMatching(/not sent: the circuit is open/) as unknown,
      });
    }
    proxy.setLatency(0);
    await until(() => redis.circuit() === "closed", 10_000);
    // The warm-up and the timed-out INCR ran; the ten refused ones never reached Redis.
    expect(await admin.get(key)).toBe("2");
    expect(await redis.incr(key)).toBe(3);
  });

  it("a cut connection: refused at once while down, closed again within 2 s of Redis returning", async () => {
    const redis = open(transport, 1000);
    expect(await redis.ping()).toBe("PONG");
    proxy.cut();
    await expect(redis.get("breaker:cut")).rejects.toMatchObject({
      code: expect.stringMatching(/^REDIS_(UNAVAILABLE|TIMEOUT)$/) as unknown,
    });
    expect(redis.circuit()).toBe("open");
    await expect(redis.get("breaker:cut")).rejects.toThrow(/not sent: the circuit is open/);
    expect((await redis.health()).ok).toBe(false);
    proxy.restore();
    await until(() => redis.circuit() === "closed", 2000);
    expect(await redis.ping()).toBe("PONG");
    expect((await redis.health()).ok).toBe(true);
  });

  it("command errors (WRONGTYPE, a Lua error) leave it closed", async () => {
    const redis = open(transport, 1000);
    const key = `breaker:${transport}:string`;
    await admin.set(key, "text");
    await expect(redis.hset(key, { a: 1 })).rejects.toThrow(/WRONGTYPE/);
    await expect(redis.eval("return redis.error_reply('boom')", [], [])).rejects.toThrow(/boom/);
    expect(redis.circuit()).toBe("closed");
    expect(await redis.get(key)).toBe("text");
  });
});
