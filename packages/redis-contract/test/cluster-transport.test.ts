import { buildKey, hashTag, keySlot } from "@hotpath/config";
import { startRedisCluster, uniquePrefix, type RedisClusterHandle } from "@hotpath/testing";
import { RedisClientError, createRedis, redisFromEnv, type HotpathRedis } from "@hotpath/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection } from "./scenario-support.ts";

describe("createRedis on a real local Redis Cluster (3 masters + 3 replicas)", () => {
  let cluster: RedisClusterHandle;
  let redis: HotpathRedis;
  const app = uniquePrefix("cl");
  // Keys of many entities: spread over the three masters.
  const keys = Array.from({ length: 24 }, (_, i) => buildKey(app, "count", hashTag("e", i)));

  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = createRedis({ url: cluster.url, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await redis?.close();
    await cluster?.stop();
  });

  it("redis+cluster:// and REDIS_CLUSTER_NODES select the cluster; a bad seed is a config error", async () => {
    expect(redis.transport).toBe("tcp");
    const fromEnv = redisFromEnv({ REDIS_CLUSTER_NODES: cluster.seeds });
    try {
      expect(await fromEnv.set(keys[0] as string, "env")).toBe("OK");
      expect(await redis.get(keys[0] as string)).toBe("env");
    } finally {
      await fromEnv.close();
    }
    expect(() => createRedis({ url: "redis+cluster://127.0.0.1" })).toThrow(RedisClientError);
    expect(() => createRedis({ url: "redis+cluster://" })).toThrow(/at least one host:port/);
  });

  it("single commands reach the node of their slot, whatever the slot", async () => {
    expect(new Set(keys.map(keySlot)).size).toBeGreaterThan(3);
    for (const [i, key] of keys.entries()) expect(await redis.set(key, i)).toBe("OK");
    for (const [i, key] of keys.entries()) expect(await redis.get(key)).toBe(i);
  });

  it("a pipeline over many slots answers every command, in request order", async () => {
    const pipe = redis.pipeline();
    for (const key of keys) pipe.incr(key);
    for (const key of keys) pipe.get(key);
    const replies = await pipe.exec();
    expect(replies).toEqual([...keys.map((_, i) => i + 1), ...keys.map((_, i) => i + 1)]);
  });

  it("a pipeline item over two slots answers CROSSSLOT alone; the items around it still run", async () => {
    const [a, b] = [keys[0] as string, keys[1] as string];
    expect(keySlot(a)).not.toBe(keySlot(b));
    const pipe = redis.pipeline();
    pipe.get(a);
    pipe.mget(a, b);
    pipe.get(b);
    const replies = await pipe.exec({ keepErrors: true });
    expect(replies.map((item) => item.result)).toEqual([1, undefined, 2]);
    expect(String(replies[1]?.error)).toMatch(/CROSSSLOT/);
    expect(redis.circuit()).toBe("closed");
  });

  it("MULTI on one hash tag runs atomically; across slots it is refused as Redis does (CROSSSLOT)", async () => {
    const lock = buildKey(app, "lock", "l", hashTag("job"));
    const fence = buildKey(app, "lock", "f", hashTag("job"));
    const tx = redis.multi();
    tx.set(lock, "me");
    tx.incr(fence);
    expect(await tx.exec()).toEqual(["OK", 1]);
    const bad = redis.multi();
    bad.set(keys[0] as string, "x");
    bad.set(keys[1] as string, "y");
    expect(keySlot(keys[0] as string)).not.toBe(keySlot(keys[1] as string));
    expect((await rejection(() => bad.exec())).message).toMatch(/^CROSSSLOT/);
    // A command error, not an outage: the client's circuit stays closed.
    expect(redis.circuit()).toBe("closed");
    expect(await redis.get(keys[0] as string)).toBe(1);
  });

  it("scripts run on the node of their keys; keys of two slots are refused with CROSSSLOT", async () => {
    const script = "return redis.call('INCR', KEYS[1]) + redis.call('INCR', KEYS[2])";
    const a = buildKey(app, "count", hashTag("pair"), "a");
    const b = buildKey(app, "count", hashTag("pair"), "b");
    expect(await redis.eval(script, [a, b], [])).toBe(2);
    expect(await redis.eval(script, [a, b], [])).toBe(4);
    const error = await rejection(() =>
      redis.eval(script, [keys[0] as string, keys[1] as string], []),
    );
    expect(error.message).toMatch(/CROSSSLOT/);
  });

  it("pub/sub works on the cluster (a PUBLISH reaches a subscriber on any node)", async () => {
    const channel = buildKey(app, "cache", "ns", "bus");
    const received: unknown[] = [];
    const subscriber = redis.subscribe<string>([channel]);
    await new Promise<void>((resolve) => subscriber.on("subscribe", () => resolve()));
    subscriber.on("message", ({ message }) => received.push(message));
    const deadline = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline) {
      await redis.publish(channel, "hello");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await subscriber.unsubscribe();
    expect(received[0]).toBe("hello");
  });
});
