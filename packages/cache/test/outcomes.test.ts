import { describe, expect, it } from "vitest";
import type { HotpathRedis } from "@hotpath/redis";
import { freePort, TRANSPORTS } from "@hotpath/testing";
import { createRedis } from "@hotpath/redis";
import { createCache } from "../src/index.ts";
import { eventually, gate, useTestApps } from "./helpers.ts";

describe.each(TRANSPORTS)("getOrSetWithOutcome says how a call was served (%s)", (transport) => {
  let redis: HotpathRedis;
  const { newApp } = useTestApps(transport, (client) => (redis = client));

  it("miss, coalesced, hit, negative and stale", async () => {
    const cache = createCache({
      redis,
      app: newApp("outcome"),
      namespace: "o",
      defaultTtl: 60,
      metrics: false,
    });
    const release = gate();
    let calls = 0;
    const load = async () => {
      calls += 1;
      await release.promise;
      return "v";
    };
    const first = cache.getOrSetWithOutcome("k", load);
    await eventually(() => calls === 1);
    const second = cache.getOrSetWithOutcome("k", load);
    release.open();
    expect(await first).toEqual({ value: "v", outcome: "miss" });
    expect(await second).toEqual({ value: "v", outcome: "coalesced" });
    expect(await cache.getOrSetWithOutcome("k", load)).toEqual({ value: "v", outcome: "hit" });
    expect(await cache.getOrSetWithOutcome("none", () => null, { negativeTtl: 30 })).toEqual({
      value: null,
      outcome: "miss",
    });
    expect(await cache.getOrSetWithOutcome("none", () => "x", { negativeTtl: 30 })).toEqual({
      value: null,
      outcome: "negative",
    });
    await cache.set("old", "stale value", { ttl: 0, staleWhileRevalidate: 60 });
    expect(
      await cache.getOrSetWithOutcome("old", () => "new", { staleWhileRevalidate: 60 }),
    ).toEqual({ value: "stale value", outcome: "stale" });
    await cache.close();
  });

  it("another process's load shared through the lease is coalesced", async () => {
    const app = newApp("outcome-lease");
    const a = createCache({ redis, app, namespace: "o", defaultTtl: 60, metrics: false });
    const b = createCache({ redis, app, namespace: "o", defaultTtl: 60, metrics: false });
    const release = gate();
    let calls = 0;
    const first = a.getOrSetWithOutcome("k", async () => {
      calls += 1;
      await release.promise;
      return "from a";
    });
    await eventually(() => calls === 1);
    const second = b.getOrSetWithOutcome("k", () => "from b", { lock: { pollMs: 5 } });
    release.open();
    expect(await first).toEqual({ value: "from a", outcome: "miss" });
    expect(await second).toEqual({ value: "from a", outcome: "coalesced" });
    await a.close();
    await b.close();
  });

  it("bypass when Redis is unreachable", async () => {
    const port = await freePort();
    const dead = createRedis(
      transport === "tcp"
        ? { url: `redis://127.0.0.1:${port}`, timeoutMs: 300 }
        : { url: `http://127.0.0.1:${port}`, token: "x", timeoutMs: 300 },
    );
    const cache = createCache({ redis: dead, namespace: "o", defaultTtl: 60, metrics: false });
    expect(await cache.getOrSetWithOutcome("k", () => "loaded")).toEqual({
      value: "loaded",
      outcome: "bypass",
    });
    await cache.close();
    await dead.close();
  });
});
