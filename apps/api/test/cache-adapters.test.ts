import { afterAll, describe, expect, it } from "vitest";
import { createIdempotencyStore } from "@hotpath/cache";
import { deletePrefix, openTestRedis, TRANSPORTS, uniquePrefix } from "@hotpath/testing";
import { createApiIdempotency } from "../src/adapters/idempotency.ts";

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
});
