import { afterAll, describe, expect, it, vi } from "vitest";
import { createIdempotencyStore } from "@hotpath/cache";
import { deletePrefix, openTestRedis, TRANSPORTS, uniquePrefix } from "@hotpath/testing";
import { createApiCache } from "../src/adapters/cache.ts";
import { createApiIdempotency } from "../src/adapters/idempotency.ts";
import type { Logger } from "../src/logger.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

describe.each(TRANSPORTS)("API adapters over @hotpath/cache (%s)", (transport) => {
  const redis = openTestRedis(transport);
  const app = uniquePrefix("api-adapters");
  afterAll(async () => {
    await deletePrefix(redis, `${app}:`);
    await redis.close();
  });

  it("the idempotency adapter hands the store's abort signal to the handler", async () => {
    const idempotency = createApiIdempotency(
      createIdempotencyStore({ redis, app, metrics: false }),
    );
    let received: unknown;
    const outcome = await idempotency.run({
      key: "signal-1",
      scope: "tips.quick|user:1",
      payload: { amount: 1 },
      handler: (signal) => {
        received = signal;
        return Promise.resolve("ok");
      },
    });
    expect(outcome).toEqual({ value: "ok", replayed: false });
    expect(received).toBeInstanceOf(AbortSignal);
    expect((received as AbortSignal).aborted).toBe(false);
  });

  it("the cache adapter reports the cache's own outcome: miss, coalesced, hit, negative", async () => {
    const cache = createApiCache({ redis, app, logger: quiet, metricsFlushMs: 60_000 });
    let open!: () => void;
    const held = new Promise<void>((resolve) => (open = resolve));
    let loads = 0;
    const load = async () => {
      loads += 1;
      await held;
      return { n: 1 };
    };
    const options = { ttlSeconds: 60 };
    const first = cache.getOrSet("status", "alice", load, options);
    await vi.waitFor(() => expect(loads).toBe(1));
    const second = cache.getOrSet("status", "alice", load, options);
    open();
    expect((await first).outcome).toBe("miss");
    expect((await second).outcome).toBe("coalesced");
    expect((await cache.getOrSet("status", "alice", load, options)).outcome).toBe("hit");
    const negative = { ttlSeconds: 60, negativeTtlSeconds: 30 };
    const missing = () => Promise.resolve(null);
    expect((await cache.getOrSet("user", "nobody", missing, negative)).outcome).toBe("miss");
    expect((await cache.getOrSet("user", "nobody", missing, negative)).outcome).toBe("negative");
    expect(loads).toBe(1);
    await cache.close();
  });
});
