import { createRedis, type HotpathRedis } from "@hotpath/redis";
import { startRedisServer, type RedisServerHandle } from "@hotpath/testing";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { findUserByUsername } from "../src/db/users.ts";
import { createContextInner } from "../src/trpc/context.ts";
import { createCallerFactory, router } from "../src/trpc/init.ts";
import { idempotent, publicProcedure } from "../src/trpc/procedures.ts";
import { startApiProcess } from "./helpers/processes.ts";
import { liveStreamOf, openTestApi, type TestApi } from "./helpers/runtime.ts";
import { waitUntil } from "./helpers/wait.ts";

const BASE = "http://api.test";

function post(path: string, input: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`${BASE}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(input),
  });
}

function get(path: string, input: unknown): Request {
  return new Request(`${BASE}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
}

describe("Redis stopped under the API (own redis-server)", () => {
  let server: RedisServerHandle;
  let redis: HotpathRedis;
  let t: TestApi;
  let streamId: number;
  let bobId: number;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = createRedis({ url: server.url, timeoutMs: 300 });
    t = await openTestApi({ redis, env: { REDIS_TIMEOUT_MS: "300" } });
    bobId = (await findUserByUsername(t.db, "bob"))?.id ?? 0;
    ({ streamId } = await liveStreamOf(t.db, "alice"));
  });
  afterAll(async () => {
    await t.close();
    await redis.close();
    await server.stop();
  });

  it("serves queries from PostgreSQL, fails tips closed with 503 + Retry-After, and recovers", async () => {
    const token = await t.login("dave");
    expect((await t.handler(get("streams.status", { username: "alice" }))).status).toBe(200);

    await server.stop();

    // Cache and rate limiting fail open: queries still answer from the source of truth.
    const byId = await t.handler(get("users.byId", { id: bobId }));
    expect(byId.status).toBe(200);
    expect(await byId.json()).toMatchObject({ result: { data: { username: "bob" } } });
    expect((await t.handler(get("streams.status", { username: "alice" }))).status).toBe(200);
    expect((await t.handler(get("users.list", {}))).status).toBe(200);

    // Money and logins fail closed: 503 with Retry-After, nothing written.
    const tip = await t.handler(
      post(
        "tips.quick",
        { streamId, amount: 1 },
        { authorization: `Bearer ${token}`, "idempotency-key": "fault-1" },
      ),
    );
    expect(tip.status).toBe(503);
    expect(Number(tip.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const login = await t.handler(
      post("sessions.login", { username: "erin", password: "hotpath-demo" }),
    );
    expect(login.status).toBe(503);
    expect(Number(login.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const tips = await t.db.query<{ n: number }>(
      "select count(*)::int as n from tips where idempotency_key = 'fault-1'",
    );
    expect(tips[0]?.n).toBe(0);

    expect((await t.handler(new Request(`${BASE}/readyz`))).status).toBe(503);
    expect((await t.handler(new Request(`${BASE}/healthz`))).status).toBe(200);

    await server.start();
    await waitUntil(async () => (await redis.health()).ok);
    // The restarted Redis kept nothing (no persistence): log in again, then tip.
    await waitUntil(
      async () =>
        (await t.handler(post("sessions.login", { username: "dave", password: "hotpath-demo" })))
          .status === 200,
    );
    const again = await t.login("dave");
    const recovered = await t.handler(
      post(
        "tips.quick",
        { streamId, amount: 1 },
        { authorization: `Bearer ${again}`, "idempotency-key": "fault-2" },
      ),
    );
    expect(recovered.status).toBe(200);
    expect((await t.handler(new Request(`${BASE}/readyz`))).status).toBe(200);
  });

  it("idempotent() itself fails closed: SERVICE_UNAVAILABLE, the handler never runs", async () => {
    let runs = 0;
    const probe = router({
      pay: publicProcedure
        .input(z.object({ n: z.number() }))
        .use(idempotent())
        .mutation(() => {
          runs += 1;
          return { ok: true };
        }),
    });
    const call = () =>
      createCallerFactory(probe)(
        createContextInner({
          deps: t.runtime.deps,
          headers: new Headers({ "idempotency-key": "probe-1" }),
          peerIp: "10.0.0.9",
        }),
      ).pay({ n: 1 });
    expect(await call()).toEqual({ ok: true });
    await server.stop();
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("SERVICE_UNAVAILABLE");
    expect(runs).toBe(1);
    await server.start();
    await waitUntil(async () => (await redis.health()).ok);
  });
});

describe("an API process whose Redis goes away (own redis-server)", () => {
  it("keeps running and answering, then recovers", async () => {
    const own = await startRedisServer();
    const api = await startApiProcess({
      NODE_ENV: "test",
      SEED: "true",
      REDIS_URL: own.url,
      REDIS_TIMEOUT_MS: "300",
      PASSWORD_ITERATIONS: "10000",
    });
    try {
      const status = `${api.url}/trpc/streams.status?input=${encodeURIComponent(JSON.stringify({ username: "alice" }))}`;
      expect((await fetch(status)).status).toBe(200);
      const cutAt = api.output().length;
      await own.stop({ hard: true });
      for (let i = 0; i < 5; i++) expect((await fetch(status)).status).toBe(200);
      expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
      const login = await fetch(`${api.url}/trpc/sessions.login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "dave", password: "hotpath-demo" }),
      });
      expect(login.status).toBe(503);
      // Background work (metric flushes, reconnects) fails now: wait until the process has
      // reported such a failure, answering all along; it must survive it.
      await waitUntil(
        async () => {
          expect((await fetch(status)).status).toBe(200);
          return /"level":"(warn|error)"/.test(api.output().slice(cutAt));
        },
        { timeoutMs: 30_000, what: "a reported background failure" },
      );
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      await own.start();
      await waitUntil(async () => (await fetch(`${api.url}/readyz`)).status === 200);
      expect((await fetch(status)).status).toBe(200);
    } finally {
      const code = await api.stop();
      await own.stop();
      expect(code, api.output()).toBe(0);
    }
  }, 60_000);
});
