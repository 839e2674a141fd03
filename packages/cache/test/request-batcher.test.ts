import { describe, expect, it } from "vitest";
import { buildKey } from "@hotpath/config";
import type { HotpathRedis } from "@hotpath/redis";
import { createCache, isCacheError } from "../src/index.ts";
import { countRequests, useTestApps } from "./helpers.ts";

// Over REST every request is an HTTP round trip: the cache sends the commands of one tick as one
// /pipeline request (a long-lived server with concurrent callers), a lone command as before.
describe("REST request batching", () => {
  let redis: HotpathRedis;
  const { newApp } = useTestApps("rest", (client) => (redis = client));

  it("concurrent reads of one tick share one HTTP request; each caller gets its own value", async () => {
    const cache = createCache({ redis, app: newApp("batch"), namespace: "n", defaultTtl: 60 });
    await cache.mset(Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: i })));
    const requests = countRequests(redis);
    const values = await Promise.all(
      Array.from({ length: 20 }, (_, i) => cache.getOrSet(`k${i}`, () => -1)),
    );
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(requests.count).toBe(1);
    expect((requests.bodies[0] as string[][]).map((command) => command[0])).toEqual(
      Array.from({ length: 20 }, () => "GET"),
    );
    requests.reset();
    expect(await cache.get("k3")).toBe(3);
    expect(requests.bodies).toEqual([["GET", expect.stringContaining("k3")]]);
    await cache.close();
  });

  it("a command Redis refuses fails alone; the others of its batch still answer", async () => {
    const app = newApp("batch-err");
    const cache = createCache({ redis, app, namespace: "n", defaultTtl: 60, metrics: false });
    await cache.set("ok", "fine");
    expect(await cache.increment("warm", 1)).toBe(1);
    // A counter holding text: INCRBY fails for that command only.
    await redis.set(buildKey(app, "count", "n", "text"), "not a number");
    const requests = countRequests(redis);
    const [ok, wrong] = await Promise.allSettled([cache.get("ok"), cache.increment("text", 1)]);
    expect(requests.count).toBe(1);
    expect(ok).toEqual({ status: "fulfilled", value: "fine" });
    expect(wrong.status).toBe("rejected");
    expect(isCacheError((wrong as PromiseRejectedResult).reason)).toBe(true);
    await cache.close();
  });
});
