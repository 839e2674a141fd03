import { KEY_WILDCARD, keySlot } from "@hotpath/config";
import { startGateway } from "@hotpath/gateway";
import type { HotpathRedis } from "@hotpath/redis";
import { uniquePrefix, useRedisCluster } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheEntryKey, createCache, type Cache } from "../src/index.ts";
import { eventually } from "./helpers.ts";

// One cluster (3 masters + 3 replicas) and one gateway in front of it for the whole file.
const { client: clusterClient, mastersOf } = useRedisCluster({ startGateway, keySlot });

describe.each(["tcp", "rest"] as const)("the cache on a Redis Cluster over %s", (transport) => {
  let redis: HotpathRedis;
  let app: string;
  const caches: Cache[] = [];
  const cacheOf = (client: HotpathRedis, l1 = false) => {
    const cache = createCache({
      redis: client,
      app,
      namespace: "item",
      defaultTtl: 60,
      metrics: false,
      timeoutMs: 5000,
      ...(l1 ? { l1: true } : {}),
    });
    caches.push(cache);
    return cache;
  };
  const ids = Array.from({ length: 120 }, (_, i) => `item-${i}`);

  beforeAll(() => {
    redis = clusterClient(transport);
    app = uniquePrefix(`ccl${transport}`);
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
  });

  it("a namespace's entries spread over every master; each entry keeps its lease and version in its slot", async () => {
    const entries = ids.map((id) => cacheEntryKey(app, "item", id));
    expect((await mastersOf(entries)).size).toBe(3);
    expect(new Set(entries.map(keySlot)).size).toBeGreaterThan(32);
  });

  it("getOrSet: a miss loads once (two instances, single flight), then every read is a hit", async () => {
    const [a, b] = [cacheOf(redis), cacheOf(clusterClient(transport))];
    let loads = 0;
    const load = async () => {
      loads += 1;
      await new Promise((resolve) => setImmediate(resolve));
      return { ok: true };
    };
    const first = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).getOrSet("shared", load)),
    );
    expect(first.every((value) => value.ok)).toBe(true);
    expect(loads).toBe(1);
    for (const id of ids) await a.getOrSet(id, () => ({ id }), { tags: ["all", `t-${id}`] });
    for (const id of ids) expect(await b.get(id)).toEqual({ id });
    // mget over many slot groups: one MGET per group, replies in the caller's order.
    expect(await b.mget([...ids, "absent"])).toEqual([...ids.map((id) => ({ id })), undefined]);
    expect(a.stats().redisErrors + b.stats().redisErrors).toBe(0);
  });

  it("set, mset and delete; a delete during a load keeps the loaded value out of Redis", async () => {
    const cache = cacheOf(redis);
    await cache.set("one", 1, { tags: ["few"] });
    await cache.mset(ids.slice(0, 30).map((id, n) => ({ key: `m-${id}`, value: n })));
    expect(await cache.get("one")).toBe(1);
    expect(await cache.get(`m-${ids[29] as string}`)).toBe(29);
    expect(await cache.delete("one")).toBe(true);
    expect(await cache.get("one")).toBeUndefined();
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let loaderRunning = false;
    const loading = cache.getOrSet("raced", async () => {
      loaderRunning = true;
      await gate;
      return "stale";
    });
    // The load has read its stamp and runs: a delete now must keep its value out of Redis.
    await eventually(() => loaderRunning);
    await cache.delete("raced");
    release();
    expect(await loading).toBe("stale");
    expect(await cache.get("raced")).toBeUndefined();
  });

  it("invalidateTag removes the tagged entries of every slot group, on every master", async () => {
    const cache = cacheOf(redis);
    for (const id of ids) await cache.set(`tagged-${id}`, id, { tags: ["bulk"] });
    await cache.set("untagged", "stays");
    expect(await cache.invalidateTag("bulk")).toBe(ids.length);
    for (const id of ids) expect(await cache.get(`tagged-${id}`)).toBeUndefined();
    expect(await cache.get("untagged")).toBe("stays");
  });

  it("invalidatePattern finds matching entries on every master", async () => {
    const cache = cacheOf(redis);
    for (const id of ids) await cache.set(["pat", id], id);
    await cache.set(["keep", 1], "stays");
    expect(
      await mastersOf(ids.map((id) => cacheEntryKey(app, "item", ["pat", id]))),
    ).toHaveProperty("size", 3);
    expect(await cache.invalidatePattern(["pat", KEY_WILDCARD])).toBe(ids.length);
    for (const id of ids) expect(await cache.get(["pat", id])).toBeUndefined();
    expect(await cache.get(["keep", 1])).toBe("stays");
  });

  it("L1 stays coherent across instances through the bus (pub/sub on the cluster)", async () => {
    const a = cacheOf(redis, true);
    const b = cacheOf(clusterClient(transport), true);
    await Promise.all([a.ready(), b.ready()]);
    await a.set("l1", "v1");
    expect(await b.getOrSet("l1", () => "loaded")).toBe("v1");
    await a.set("l1", "v2");
    await eventually(async () => (await b.getOrSet("l1", () => "loaded")) === "v2");
    await a.invalidateTag("none");
    await a.delete("l1");
    await eventually(async () => (await b.getOrSet("l1", () => "after")) === "after");
  });
});
