import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHotpathClient, isHotpathClientError } from "../src/client.ts";
import { startApi, type RunningApi } from "../src/server.ts";
import { loadEnv } from "../src/env.ts";
import { silentLogger } from "../src/logger.ts";
import { deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import { alignToWindow } from "./helpers/wait.ts";

describe("typed client against a running server", () => {
  let api: RunningApi;
  let redis: HotpathRedis;
  const app = uniquePrefix("e2e");

  beforeAll(async () => {
    redis = openTestRedis("tcp");
    api = await startApi({
      env: loadEnv({
        NODE_ENV: "test",
        PORT: "0",
        HOTPATH_APP: app,
        PASSWORD_ITERATIONS: "10000",
        RATE_LIMIT_POLICIES: '{"strict":"3/1m"}',
      }),
      redis,
      logger: silentLogger,
      seed: true,
    });
  });
  afterAll(async () => {
    await api.stop();
    await deletePrefix(redis, `${app}:`);
    await redis.close();
  });

  it("logs in, reads, tips idempotently and reads typed errors", async () => {
    // The burst must fall inside one window to meet the limit exactly.
    await alignToWindow();
    const url = `${api.server.url}/trpc`;
    const anonymous = createHotpathClient({ url });
    expect((await anonymous.health.ping.query()).ok).toBe(true);
    const status = await anonymous.streams.status.query({ username: "alice" });
    expect(status.live).toBe(true);
    const login = await anonymous.sessions.login.mutate({
      username: "dave",
      password: "hotpath-demo",
    });
    expect(login.user.username).toBe("dave");

    const dave = createHotpathClient({ url, headers: { authorization: `Bearer ${login.token}` } });
    expect((await dave.sessions.me.query()).user.username).toBe("dave");
    const [first, second] = await Promise.all([
      dave.tips.quick.mutate(
        { streamId: status.stream?.id ?? 0, amount: 4.2 },
        { context: { idempotencyKey: "e2e-1" } },
      ),
      dave.users.byId.query({ id: status.creator.id }),
    ]);
    expect(first.tip.amount).toBe("4.20");
    expect(second.username).toBe("alice");
    const replay = await dave.tips.quick.mutate(
      { streamId: status.stream?.id ?? 0, amount: 4.2 },
      { context: { idempotencyKey: "e2e-1" } },
    );
    expect(replay).toEqual(first);

    // Bad input: typed zodError naming the field.
    const invalid = await dave.tips.quick
      .mutate(
        { streamId: status.stream?.id ?? 0, amount: -1 },
        { context: { idempotencyKey: "e2e-2" } },
      )
      .catch((error: unknown) => error);
    expect(isHotpathClientError(invalid)).toBe(true);
    if (!isHotpathClientError(invalid)) return;
    expect(invalid.data?.httpStatus).toBe(400);
    expect(invalid.data?.zodError?.fieldErrors.amount).toBeDefined();

    // Over the strict limit (3/min here: tip, replay and the invalid call counted): typed retryAfter / limit / remaining.
    const limited = await dave.tips.quick
      .mutate(
        { streamId: status.stream?.id ?? 0, amount: 1 },
        { context: { idempotencyKey: "e2e-3" } },
      )
      .catch((error: unknown) => error);
    expect(isHotpathClientError(limited)).toBe(true);
    if (!isHotpathClientError(limited)) return;
    expect(limited.data?.code).toBe("TOO_MANY_REQUESTS");
    expect(limited.data?.limit).toBe(3);
    expect(limited.data?.remaining).toBe(0);
    expect(limited.data?.retryAfter).toBeGreaterThanOrEqual(1);
  });

  it("drains in-flight requests on stop", async () => {
    // A slow KDF makes the login long enough to be caught in flight.
    const other = await startApi({
      env: loadEnv({
        NODE_ENV: "test",
        PORT: "0",
        HOTPATH_APP: `${app}-drain`,
        PASSWORD_ITERATIONS: "400000",
      }),
      redis,
      logger: silentLogger,
      seed: true,
    });
    const client = createHotpathClient({ url: `${other.server.url}/trpc` });
    const pending = client.sessions.login.mutate({ username: "erin", password: "hotpath-demo" });
    const deadline = Date.now() + 5000;
    while (other.server.inFlight() === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 1));
    expect(other.server.inFlight()).toBe(1);
    const stopped = other.stop(5000);
    const result = await pending;
    await stopped;
    expect(result.user.username).toBe("erin");
    await expect(fetch(`${other.server.url}/healthz`)).rejects.toThrow();
    await deletePrefix(redis, `${app}-drain:`);
  });
});
