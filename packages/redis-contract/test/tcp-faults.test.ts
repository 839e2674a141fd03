import {
  startRedisServer,
  startTcpProxy,
  type RedisServerHandle,
  type TcpProxy,
} from "@hotpath/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisClientError, createRedis, type HotpathRedis } from "@hotpath/redis";

// Fault tests use their own redis-server (never the shared one) and a proxy they control.
let server: RedisServerHandle;
let proxy: TcpProxy;
const opened: HotpathRedis[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

function open(url: string, timeoutMs: number, breaker?: false): HotpathRedis {
  const redis = createRedis({ url, timeoutMs, breaker });
  opened.push(redis);
  return redis;
}

/** Fails (instead of hanging) when `promise` has not settled within `ms`. */
async function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<PromiseSettledResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      Promise.allSettled([promise]).then(([outcome]) => outcome as PromiseSettledResult<T>),
      guard,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function expectClientError(outcome: PromiseSettledResult<unknown>, codes: readonly string[]): void {
  expect(outcome.status).toBe("rejected");
  const reason = (outcome as PromiseRejectedResult).reason as unknown;
  expect(reason).toBeInstanceOf(RedisClientError);
  expect(codes).toContain((reason as RedisClientError).code);
}

/** Polls `check` until it holds (bounded). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met within 10 s");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Retries `call` until it succeeds (bounded), for recovery after a fault is removed. */
async function eventually<T>(call: () => Promise<T>, attempts = 100): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error("never recovered", { cause: last });
}

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  server = await startRedisServer();
  proxy = await startTcpProxy(server.port);
});

afterEach(() => {
  proxy.setLatency(0);
  proxy.restore();
});

afterAll(async () => {
  await Promise.all(opened.map((redis) => redis.close()));
  await proxy.close();
  await server.stop();
  process.off("unhandledRejection", onUnhandled);
});

describe("per-command timeout (TCP)", () => {
  it("rejects with REDIS_TIMEOUT when Redis is slower than the timeout, then recovers", async () => {
    // Without the breaker, so every call shows the timeout itself (test/breaker.test.ts has it).
    const redis = open(proxy.url, 150, false);
    expect(await redis.set("t:slow", "v")).toBe("OK");
    proxy.setLatency(1000);
    expectClientError(await settlesWithin(redis.get("t:slow"), 3000), ["REDIS_TIMEOUT"]);
    expectClientError(
      await settlesWithin(redis.pipeline().get("t:slow").incr("t:n").exec(), 3000),
      ["REDIS_TIMEOUT"],
    );
    expectClientError(await settlesWithin(redis.multi().get("t:slow").exec(), 3000), [
      "REDIS_TIMEOUT",
    ]);
    const health = await redis.health();
    expect(health).toMatchObject({ ok: false, transport: "tcp" });
    expect(health.error).toMatch(/did not answer within 150 ms/);
    proxy.setLatency(0);
    // Late replies of the timed-out commands must not be handed to later commands.
    expect(await eventually(() => redis.get("t:slow"))).toBe("v");
    expect(await redis.incr("t:counter")).toBe(1);
    expect(await redis.get("t:slow")).toBe("v");
  });
});

describe("Redis stopped and restarted (TCP)", () => {
  it("rejects with REDIS_UNAVAILABLE/REDIS_TIMEOUT while down, no unhandled rejection, recovers after restart", async () => {
    const redis = open(server.url, 300);
    expect(await redis.set("t:k", "before")).toBe("OK");
    await server.stop();
    const calls: (() => Promise<unknown>)[] = [
      () => redis.get("t:k"),
      () => redis.set("t:k", "x"),
      () => redis.pipeline().get("t:k").exec(),
      () => redis.multi().get("t:k").exec(),
      () => redis.eval("return 1", [], []),
    ];
    for (const call of calls) {
      expectClientError(await settlesWithin(call(), 5000), ["REDIS_UNAVAILABLE", "REDIS_TIMEOUT"]);
    }
    const down = await redis.health();
    expect(down.ok).toBe(false);
    expect(down.error).toBeTruthy();
    await server.start();
    // A fresh server (no persistence): writes work again once the client has reconnected.
    expect(await eventually(() => redis.set("t:k", "after"))).toBe("OK");
    expect(await redis.get("t:k")).toBe("after");
    expect((await redis.health()).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
  });

  it("rejects when the connection is cut, and recovers when it is restored", async () => {
    const redis = open(proxy.url, 300);
    expect(await redis.ping()).toBe("PONG");
    proxy.cut();
    expectClientError(await settlesWithin(redis.get("t:cut"), 5000), [
      "REDIS_UNAVAILABLE",
      "REDIS_TIMEOUT",
    ]);
    proxy.restore();
    expect(await eventually(() => redis.ping())).toBe("PONG");
    expect(unhandled).toEqual([]);
  });

  it("subscribe while Redis is unreachable reports an error event, no unhandled rejection", async () => {
    const redis = open("redis://127.0.0.1:1", 200);
    const subscriber = redis.subscribe(["t:news"]);
    const error = await new Promise<unknown>((resolve) => subscriber.on("error", resolve));
    expect(error).toBeInstanceOf(RedisClientError);
    expect((error as RedisClientError).code).toBe("REDIS_UNAVAILABLE");
    await subscriber.unsubscribe();
    expect(unhandled).toEqual([]);
  });

  it("a subscription comes back after a reconnect, and closing it mid-resubscribe rejects nothing unhandled", async () => {
    const redis = open(proxy.url, 300);
    const admin = createRedis({ url: server.url });
    opened.push(admin);
    const channel = `t:resub:${Date.now()}`;
    const subscribers = async () =>
      Number((await admin.exec<unknown[]>(["PUBSUB", "NUMSUB", channel]))[1]);
    const subscriber = redis.subscribe<string>([channel]);
    const received: string[] = [];
    subscriber.on("message", ({ message }) => received.push(message));
    await eventually(async () => {
      if ((await subscribers()) !== 1) throw new Error("not subscribed yet");
    });
    // Reconnect: the subscription is made again on the new connection.
    proxy.cut();
    await eventually(async () => {
      if ((await subscribers()) !== 0) throw new Error("old connection still subscribed");
    });
    proxy.restore();
    await eventually(async () => {
      if ((await subscribers()) !== 1) throw new Error("not subscribed again yet");
    });
    await admin.publish(channel, "after");
    await until(() => received.includes("after"));
    // Again, but the SUBSCRIBE's reply is slow and the subscription is closed before it arrives.
    proxy.cut();
    await eventually(async () => {
      if ((await subscribers()) !== 0) throw new Error("old connection still subscribed");
    });
    // Every chunk takes 700 ms each way: the handshake before the SUBSCRIBE takes seconds, and
    // its reply is still on the way well after the server has run it.
    proxy.setLatency(700);
    proxy.restore();
    await eventually(async () => {
      if ((await subscribers()) !== 1) throw new Error("SUBSCRIBE not run yet");
    }, 400);
    await subscriber.unsubscribe();
    // The connection is gone (the server saw it close), so its pending SUBSCRIBE was rejected;
    // a rejection nobody handles is reported once the current ticks are over.
    await eventually(async () => {
      if ((await subscribers()) !== 0) throw new Error("subscriber connection still open");
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  });

  it("a client of a Redis that never answered rejects instead of hanging", async () => {
    const redis = open("redis://127.0.0.1:1", 200);
    expectClientError(await settlesWithin(redis.get("x"), 5000), [
      "REDIS_UNAVAILABLE",
      "REDIS_TIMEOUT",
    ]);
    expect((await redis.health()).ok).toBe(false);
  });
});

describe("write coalescing keeps every reply with its command", () => {
  it("concurrent single commands, pipelines and transactions in the same tick", async () => {
    const redis = open(server.url, 2000);
    const keys = Array.from({ length: 200 }, (_, i) => `t:order:${i}`);
    await redis.mset(Object.fromEntries(keys.map((key, i) => [key, `v${i}`])));
    const singles = keys.map((key) => redis.get<string>(key));
    const pipelines = Array.from({ length: 10 }, (_, p) => {
      const pipeline = redis.pipeline();
      for (let i = p * 20; i < p * 20 + 20; i += 1) pipeline.get(keys[i] as string);
      return pipeline.exec<string[]>();
    });
    const transactions = Array.from({ length: 10 }, (_, t) =>
      redis
        .multi()
        .incr(`t:order:n${t}`)
        .get(keys[t] as string)
        .exec<[number, string]>(),
    );
    const [singleResults, pipelineResults, transactionResults] = await Promise.all([
      Promise.all(singles),
      Promise.all(pipelines),
      Promise.all(transactions),
    ]);
    expect(singleResults).toEqual(keys.map((_, i) => `v${i}`));
    expect(pipelineResults.flat()).toEqual(keys.map((_, i) => `v${i}`));
    expect(transactionResults).toEqual(Array.from({ length: 10 }, (_, t) => [1, `v${t}`]));
  });

  it("replies stay matched after the connection is cut with commands in flight", async () => {
    const redis = open(proxy.url, 500);
    const keys = Array.from({ length: 50 }, (_, i) => `t:cutorder:${i}`);
    await redis.mset(Object.fromEntries(keys.map((key, i) => [key, `c${i}`])));
    proxy.setLatency(100);
    const before = proxy.bytesFromClients;
    const inFlight = keys.map((key) => redis.get<string>(key).catch((error: unknown) => error));
    // Cut once the GETs reached the proxy (held there by the latency): they are in flight.
    await until(() => proxy.bytesFromClients > before);
    proxy.cut();
    const outcomes = await Promise.all(inFlight);
    proxy.setLatency(0);
    proxy.restore();
    // Each outcome is its own value or a client error, never another key's value.
    outcomes.forEach((outcome, i) => {
      if (typeof outcome === "string") expect(outcome).toBe(`c${i}`);
      else expect(outcome).toBeInstanceOf(RedisClientError);
    });
    await eventually(() => redis.ping());
    expect(await Promise.all(keys.map((key) => redis.get<string>(key)))).toEqual(
      keys.map((_, i) => `c${i}`),
    );
  });
});

describe("close()", () => {
  it("is safe to call twice; later calls reject with a RedisClientError", async () => {
    const redis = createRedis({ url: server.url, timeoutMs: 500 });
    expect(await eventually(() => redis.ping())).toBe("PONG");
    await redis.close();
    await redis.close();
    expectClientError(await settlesWithin(redis.get("x"), 3000), ["REDIS_UNAVAILABLE"]);
  });

  it("a REST client's close() resolves too (nothing to release)", async () => {
    const redis = createRedis({ url: "http://127.0.0.1:1", token: "t" });
    await expect(redis.close()).resolves.toBeUndefined();
    await expect(redis.close()).resolves.toBeUndefined();
  });
});
