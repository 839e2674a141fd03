import { describe, expect, it } from "vitest";
import { TRANSPORTS } from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import { createCache, type Cache } from "../src/index.ts";
import { eventually, useTestApps } from "./helpers.ts";

/** A loader the test controls: it reads "the database" (v1) and waits until released. */
function gatedLoader(value: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const state = { calls: 0 };
  const loader = async () => {
    state.calls += 1;
    await gate;
    return value;
  };
  return { loader, release, state };
}

describe.each(TRANSPORTS)("a load never writes back stale data over %s", (transport) => {
  let redis: HotpathRedis;
  // guardSlots: every script, MULTI and multi-key command must stay in one cluster slot.
  const { newApp } = useTestApps(transport, (client) => (redis = client), { guardSlots: true });
  const cacheFor = (label: string, extra: Partial<Parameters<typeof createCache>[0]> = {}) =>
    createCache({
      redis,
      app: newApp(label),
      namespace: "item",
      defaultTtl: 60,
      metrics: false,
      ...extra,
    });

  for (const lock of [true, false]) {
    it(`delete() during the load: the loaded value is returned but not stored (lock: ${lock})`, async () => {
      const cache = cacheFor("del");
      const { loader, release, state } = gatedLoader("v1");
      const pending = cache.getOrSet("k", loader, { lock });
      await eventually(() => state.calls === 1);
      await cache.delete("k");
      release();
      expect(await pending).toBe("v1");
      expect(await cache.get("k")).toBeUndefined();
      expect(await cache.getOrSet("k", () => "v2", { lock })).toBe("v2");
      await cache.close();
    });

    it(`set() during the load wins over the loader's store (lock: ${lock})`, async () => {
      const cache = cacheFor("set");
      const { loader, release, state } = gatedLoader("v1");
      const pending = cache.getOrSet("k", loader, { lock });
      await eventually(() => state.calls === 1);
      expect(await cache.set("k", "v2")).toBe(true);
      release();
      await pending;
      expect(await cache.get("k")).toBe("v2");
      await cache.close();
    });

    it(`invalidateTag() during the load: the tagged value is not stored (lock: ${lock})`, async () => {
      const cache = cacheFor("tag");
      const { loader, release, state } = gatedLoader("v1");
      const pending = cache.getOrSet("k", loader, { lock, tags: ["team:1"] });
      await eventually(() => state.calls === 1);
      await cache.invalidateTag("team:1");
      release();
      await pending;
      expect(await cache.get("k")).toBeUndefined();
      await cache.close();
    });

    it(`an SWR refresh does not write back over a delete that ran during it (lock: ${lock})`, async () => {
      const background: Promise<unknown>[] = [];
      const cache: Cache = cacheFor("swr", { waitUntil: (p) => void background.push(p) });
      // Fresh for 0 s, stale for 60 s: the next getOrSet serves it stale and refreshes.
      await cache.set("k", "old", { ttl: 0, staleWhileRevalidate: 60 });
      const { loader, release, state } = gatedLoader("v1");
      expect(await cache.getOrSet("k", loader, { lock, staleWhileRevalidate: 60 })).toBe("old");
      await eventually(() => state.calls === 1);
      await cache.delete("k");
      release();
      await eventually(() => background.length > 0);
      await Promise.all(background);
      expect(await cache.get("k", { allowStale: true })).toBeUndefined();
      await cache.close();
    });
  }

  it("an undisturbed load still stores (the miss stays 3 round trips with the lease)", async () => {
    const cache = cacheFor("plain");
    expect(await cache.getOrSet("k", () => "v1")).toBe("v1");
    expect(await cache.get("k")).toBe("v1");
    expect(await cache.getOrSet("n", () => "v1", { lock: false })).toBe("v1");
    expect(await cache.get("n")).toBe("v1");
    await cache.close();
  });
});
