import { createRedis, type HotpathRedis } from "@hotpath/redis";
import {
  startRedisServer,
  startTcpProxy,
  type RedisServerHandle,
  type TcpProxy,
} from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByUsername } from "../src/db/users.ts";
import { openTestApi, type TestApi } from "./helpers/runtime.ts";

const BASE = "http://api.test";
const REDIS_TIMEOUT_MS = 1000;
/** Requests measured during the outage, all started after its first second. */
const SAMPLES = 40;

function get(path: string, input: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`${BASE}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, {
    headers,
  });
}

function login(username: string, clientIp: string): Request {
  return new Request(`${BASE}/trpc/sessions.login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": clientIp },
    body: JSON.stringify({ username, password: "hotpath-demo" }),
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

describe("a Redis outage under the API is fast (own redis-server behind a proxy)", () => {
  let server: RedisServerHandle;
  let proxy: TcpProxy;
  let redis: HotpathRedis;
  let t: TestApi;
  let bobId: number;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startTcpProxy(server.port);
    redis = createRedis({ url: proxy.url, timeoutMs: REDIS_TIMEOUT_MS });
    t = await openTestApi({
      redis,
      env: {
        REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
        // Latency is under test, not limits: with the breaker open, reads are fast enough to use up
        // a tier's per-minute limit (answered by the in-memory insurance limiter) in under a second.
        RATE_LIMIT_POLICIES: '{"moderate":"100000/1m","generous":"100000/1m"}',
      },
    });
    bobId = (await findUserByUsername(t.db, "bob"))?.id ?? 0;
  });

  afterAll(async () => {
    proxy.restore();
    await t.close();
    await redis.close();
    await proxy.close();
    await server.stop();
  });

  it("answers database reads at once while Redis is cut off, and uses Redis again within 2 s of its return", async () => {
    // A signed-in reader: every request also looks its session up (Redis) for its identity.
    const token = await t.login("carol");
    const byId = () =>
      t.handler(get("users.byId", { id: bobId }, { authorization: `Bearer ${token}` }));
    expect((await byId()).status).toBe(200);

    proxy.cut();
    const cutAt = performance.now();
    // Measure only requests that start after the outage's first second (the first calls may
    // each pay one Redis timeout before the client's breaker opens).
    const durations: number[] = [];
    const giveUpAt = cutAt + 60_000;
    while (durations.length < SAMPLES && performance.now() < giveUpAt) {
      const started = performance.now();
      const response = await byId();
      const took = performance.now() - started;
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ result: { data: { username: "bob" } } });
      if (started - cutAt >= 1000) durations.push(took);
    }
    const p50 = median(durations);
    process.stderr.write(
      `[outage] users.byId during the outage: p50 ${p50.toFixed(1)} ms over ${durations.length} requests\n`,
    );
    // Functional bound: without a breaker every request pays the 1000 ms Redis timeout.
    expect(durations.length).toBe(SAMPLES);
    expect(p50).toBeLessThanOrEqual(50);

    proxy.restore();
    const restoredAt = performance.now();
    // Redis-backed: /readyz PINGs Redis through the API's client (its breaker must have closed).
    let ready = false;
    while (!ready && performance.now() - restoredAt < 2000) {
      ready = (await t.handler(new Request(`${BASE}/readyz`))).status === 200;
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const readyAfter = performance.now() - restoredAt;
    expect(ready, "/readyz (Redis PING) answers 200 within 2 s of Redis returning").toBe(true);
    // A call that needs Redis under fail-closed policies (session store, auth limit) follows; the
    // rate limiter's own breaker may hold it for up to its breakerMs (1 s) more. Each attempt
    // comes from its own address so the auth limit itself cannot get in the way.
    let attempt = 0;
    let last: Response | undefined;
    while (performance.now() - restoredAt < 5000) {
      attempt += 1;
      last = await t.handler(login("carol", `10.77.1.${attempt % 250}`));
      if (last.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    process.stderr.write(
      `[outage] after restore: /readyz 200 after ${readyAfter.toFixed(0)} ms, login 200 after ${(performance.now() - restoredAt).toFixed(0)} ms\n`,
    );
    expect(last?.status, "login works again once Redis is back").toBe(200);
  }, 90_000);
});
