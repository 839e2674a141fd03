import { describe, expect, it } from "vitest";
import type { HotpathRedis } from "@hotpath/redis";
import { TRANSPORTS } from "@hotpath/testing";
import { createCache } from "../src/index.ts";
import { eventually, holdReplies, useTestApps } from "./helpers.ts";

const isRead = (body: unknown) => Array.isArray(body) && (body[0] === "MGET" || body[0] === "GET");
/**
 * The held read waits while the test writes: it must not time out meanwhile (the default 500 ms
 * did under load, and the read then fell through instead of answering "old"). The tests order
 * the steps by conditions; this bound only keeps a broken run from hanging.
 */
const HELD_READ_TIMEOUT_MS = 30_000;

describe.each(TRANSPORTS)("L1 and this instance's own writes over %s", (transport) => {
  let redis: HotpathRedis;
  const { newApp } = useTestApps(transport, (client) => (redis = client));

  for (const call of ["getOrSet", "get"] as const) {
    it(`a ${call} answered before set("new") does not put the old value in L1`, async () => {
      const cache = createCache({
        redis,
        app: newApp("epoch"),
        namespace: "user",
        defaultTtl: 60,
        l1: { bus: false },
        metrics: false,
        timeoutMs: HELD_READ_TIMEOUT_MS,
      });
      await cache.set("k", "old");
      const held = holdReplies(redis, isRead);
      try {
        const pending = call === "getOrSet" ? cache.getOrSet("k", () => "loaded") : cache.get("k");
        // Redis has answered the read with "old"; the answer reaches the cache after the write.
        await eventually(() => held.arrived === 1);
        held.restore();
        expect(await cache.set("k", "new")).toBe(true);
        held.release();
        expect(await pending).toBe("old");
      } finally {
        held.restore();
        held.release();
      }
      expect(await cache.get("k")).toBe("new");
      expect(await cache.getOrSet("k", () => "loaded")).toBe("new");
      await cache.close();
    });
  }

  it("a read answered before invalidateTag does not refill L1 either", async () => {
    const cache = createCache({
      redis,
      app: newApp("epoch-tag"),
      namespace: "user",
      defaultTtl: 60,
      l1: { bus: false },
      metrics: false,
      timeoutMs: HELD_READ_TIMEOUT_MS,
    });
    await cache.set("k", "old", { tags: ["t"] });
    const held = holdReplies(redis, isRead);
    let pending: Promise<unknown>;
    try {
      pending = cache.get("k");
      await eventually(() => held.arrived === 1);
      held.restore();
      await cache.invalidateTag("t");
    } finally {
      held.restore();
      held.release();
    }
    expect(await pending).toBe("old");
    expect(await cache.get("k")).toBeUndefined();
    await cache.close();
  });
});
