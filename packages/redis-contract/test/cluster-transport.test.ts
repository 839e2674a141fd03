import { buildKey, hashTag, keySlot } from "@hotpath/config";
import {
  scanAll,
  startRedisCluster,
  uniquePrefix,
  writeScanKeys,
  type RedisClusterHandle,
} from "@hotpath/testing";
import { RedisClientError, createRedis, redisFromEnv, type HotpathRedis } from "@hotpath/redis";
import { Redis as IORedis } from "ioredis";
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

  it("steady state sends every command to its slot's master: no MOVED or ASK redirect", async () => {
    // ioredis 5.9.3 builds its slot map from CLUSTER SLOTS; with stringNumbers (which keeps
    // integer replies exact) the ranges came back as strings and "5461" <= "10922" compared as
    // text, so a whole master's range stayed unmapped and its commands went to a random node
    // (MOVED, then a slot refresh). patches/ioredis@5.9.3.patch converts them to numbers.
    const nodes = cluster.nodes.map((node) => new IORedis(node.port, { lazyConnect: false }));
    const redirects = async () => {
      let total = 0;
      for (const node of nodes) {
        const info = await node.info("errorstats");
        for (const match of info.matchAll(/^errorstat_(?:MOVED|ASK):count=(\d+)/gm))
          total += Number(match[1]);
      }
      return total;
    };
    try {
      const many = Array.from({ length: 300 }, (_, i) => buildKey(app, "count", hashTag("m", i)));
      for (const key of many) await redis.get(key);
      const before = await redirects();
      for (const key of many) await redis.get(key);
      expect((await redirects()) - before).toBe(0);
    } finally {
      for (const node of nodes) node.disconnect();
    }
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

  it("SCAN pages through every master with one cursor: MATCH, TYPE and pipelines see every key", async () => {
    const scanApp = uniquePrefix("clscan");
    const inside = Array.from({ length: 300 }, (_, i) =>
      buildKey(scanApp, "count", hashTag("s", i)),
    );
    const outside = Array.from({ length: 30 }, (_, i) => buildKey(scanApp, "lb", hashTag("o", i)));
    // Distinct hash tags put the keys on every master.
    const keys = { strings: inside, hashes: outside };
    const perMaster = await writeScanKeys(redis, cluster, keys, keySlot);
    expect(perMaster.size).toBe(3);
    expect(Math.min(...perMaster.values())).toBeGreaterThan(50);

    const match = `${scanApp}:count:*`;
    const { items, cursors } = await scanAll((cursor) => redis.scan(cursor, { match, count: 50 }));
    expect(items.every((key) => key.startsWith(`${scanApp}:count:`))).toBe(true);
    expect([...new Set(items)].sort()).toEqual([...inside].sort());
    // Cursors of the second and third masters exceed 2^53 and come back exact.
    expect(cursors.some((cursor) => BigInt(cursor) >= 2n ** 64n)).toBe(true);

    const hashes = await scanAll((cursor) =>
      redis.scan(cursor, { match: `${scanApp}:*`, type: "hash", count: 50 }),
    );
    expect([...new Set(hashes.items)].sort()).toEqual([...outside].sort());

    const piped = await scanAll(async (cursor) => {
      const pipe = redis.pipeline();
      pipe.scan(cursor, { match, count: 100 });
      pipe.get(inside[0] as string);
      const [page, value] = await pipe.exec<[[string, string[]], number]>();
      expect(value).toBe(1);
      return page;
    });
    expect([...new Set(piped.items)].sort()).toEqual([...inside].sort());
  });

  it("a SCAN cursor that does not decode is Redis's invalid-cursor error, never a restart", async () => {
    for (const bogus of ["not-a-cursor", "-1", (5n * 2n ** 64n).toString()]) {
      expect((await rejection(() => redis.scan(bogus))).message).toMatch(/ERR invalid cursor/);
    }
    // In a pipeline too (the SDK cannot keep a SCAN's error: it deserialises the missing page).
    const pipe = redis.pipeline();
    pipe.ping();
    pipe.scan("bogus");
    expect((await rejection(() => pipe.exec())).message).toMatch(/ERR invalid cursor/);
    // A command error, not an outage.
    expect(redis.circuit()).toBe("closed");
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
