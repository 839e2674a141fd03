import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HotpathRedis } from "@hotpath/redis";
import { openTestRedis, TRANSPORTS } from "@hotpath/testing";
import { cacheEntryKey, createCache } from "../src/index.ts";
import { countRequests, eventually, useTestApps } from "./helpers.ts";

describe.each(TRANSPORTS)("L1 tier over %s", (transport) => {
  let redisA: HotpathRedis;
  let redisB: HotpathRedis;
  // guardSlots: every script, MULTI and multi-key command must stay in one cluster slot.
  const { newApp } = useTestApps(transport, (client) => (redisA = client), { guardSlots: true });
  beforeAll(() => {
    redisB = openTestRedis(transport, { guardSlots: true });
  });
  afterAll(async () => {
    await redisB.close();
  });

  it("serves L1 hits with zero round trips and stays bounded by entries and bytes", async () => {
    const cache = createCache({
      redis: redisA,
      app: newApp("l1"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      l1: { maxEntries: 3, bus: false },
    });
    await cache.getOrSet("a", () => 1);
    const requests = countRequests(redisA);
    expect(await cache.getOrSet("a", () => 2)).toBe(1);
    expect(await cache.get("a")).toBe(1);
    expect(requests.count).toBe(0);
    for (const key of ["b", "c", "d", "e"]) await cache.getOrSet(key, () => key);
    expect(cache.stats().l1Entries).toBe(3);
    const small = createCache({
      redis: redisA,
      app: newApp("l1b"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      l1: { maxBytes: 100, bus: false },
    });
    await small.getOrSet("big", () => "x".repeat(500));
    await small.getOrSet("s1", () => "y");
    expect(small.stats().l1Entries).toBe(1);
    expect(small.stats().l1Bytes).toBeLessThanOrEqual(100);
    await cache.close();
    await small.close();
  });

  it("invalidations reach other instances over pub/sub", async () => {
    const app = newApp("bus");
    const a = createCache({
      redis: redisA,
      app,
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      l1: true,
    });
    const b = createCache({
      redis: redisB,
      app,
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      l1: true,
    });
    // Wait for the subscription itself, not for a guessed delay.
    await Promise.all([a.ready(), b.ready()]);
    await a.set("k", "v1", { tags: ["t"] });
    expect(await b.getOrSet("k", () => "loaded")).toBe("v1");
    await a.set("k", "v2");
    await eventually(async () => (await b.getOrSet("k", () => "loaded")) === "v2");
    await a.set("k", "v3", { tags: ["t"] });
    await eventually(async () => (await b.getOrSet("k", () => "loaded")) === "v3");
    await a.invalidateTag("t");
    await eventually(async () => (await b.getOrSet("k", () => "after-tag")) === "after-tag");
    await a.close();
    await b.close();
  });

  it("without pub/sub, the slot group's generation stamp read in the same round trip drops stale L1 entries", async () => {
    const app = newApp("gen");
    const a = createCache({
      redis: redisA,
      app,
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      l1: { bus: false },
    });
    const b = createCache({
      redis: redisB,
      app,
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
      l1: { bus: false },
    });
    await a.set("k", "old");
    expect(await b.getOrSet("k", () => "loaded")).toBe("old");
    await a.set("k", "new");
    // B's next Redis round trip for a key of k's slot group brings the group's new generation.
    const neighbour = sameGroupKey(app, "user", "k");
    const requests = countRequests(redisB);
    await b.get(neighbour);
    expect(requests.count).toBe(1);
    expect(await b.getOrSet("k", () => "loaded")).toBe("new");
    await a.delete("k");
    await b.get(neighbour);
    expect(await b.getOrSet("k", () => "reloaded")).toBe("reloaded");
    // An instance's own writes do not flush its own L1 (it adopts the generation it bumped).
    expect(await a.getOrSet("mine", () => "kept")).toBe("kept");
    await a.set("other", 1);
    await a.mset([
      { key: "o2", value: 2 },
      { key: "o3", value: 3 },
    ]);
    for (const key of ["mine", "other", "o2", "o3"]) await a.get(sameGroupKey(app, "user", key));
    const own = countRequests(redisA);
    expect(await a.getOrSet("mine", () => "reloaded")).toBe("kept");
    expect(own.count).toBe(0);
    await a.close();
    await b.close();
  });
});

/** A key other than `key` whose entry is in the same slot group (hash tag) as `key`'s. */
function sameGroupKey(app: string, namespace: string, key: string): string {
  const groupOf = (k: string) => /\{[^}]*\}/.exec(cacheEntryKey(app, namespace, k))?.[0];
  const wanted = groupOf(key);
  for (let n = 0; n < 100_000; n += 1) {
    if (`n${n}` !== key && groupOf(`n${n}`) === wanted) return `n${n}`;
  }
  throw new Error(`no key shares the slot group of ${key}`);
}
