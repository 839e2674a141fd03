import { randomBytes } from "node:crypto";
import { deletePrefix, openTestRedis, testTargets, uniquePrefix } from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import { setTimeout as sleep } from "node:timers/promises";
import { RATE_LIMIT_TIERS } from "@hotpath/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHotpathClient, isHotpathClientError, type HotpathClient } from "../src/client.ts";
import { openPostgresDatabase } from "../src/db/postgres.ts";
import { POSTGRES_REQUIRED, postgresAnswers, TEST_POSTGRES_URL } from "./helpers/postgres.ts";
import { startApiProcess, type ApiProcess } from "./helpers/processes.ts";

// Under `pnpm test` a PostgreSQL is always provided: not answering is a failure, not a skip.
const pgAvailable = POSTGRES_REQUIRED || (await postgresAnswers());
const WINDOW_MS = 60_000;
/** How long before the window boundary the first half of the burst starts. */
const LEAD_MS = 3000;

// Three API processes share one Redis and one PostgreSQL schema (a shared source of truth is
// what makes "an invalidation through one instance is seen by the others" meaningful).
describe.skipIf(!pgAvailable)("three API processes against one Redis", () => {
  const app = uniquePrefix("scale");
  const schema = `hotpath_scale_${randomBytes(4).toString("hex")}`;
  let redis: HotpathRedis;
  let processes: ApiProcess[] = [];
  let clients: HotpathClient[] = [];

  beforeAll(async () => {
    redis = openTestRedis("tcp");
    const env = {
      NODE_ENV: "test",
      SEED: "true",
      HOTPATH_APP: app,
      REDIS_URL: testTargets().redisUrl,
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_SCHEMA: schema,
      PASSWORD_ITERATIONS: "10000",
      // Accuracy is under test here, not the failure path: a loaded machine must not make a check
      // time out and fail open through the per-process insurance limiter.
      REDIS_TIMEOUT_MS: "10000",
    };
    const started = await Promise.allSettled([
      startApiProcess(env),
      startApiProcess(env),
      startApiProcess(env),
    ]);
    processes = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason; // afterAll stops the ones that did start

    clients = processes.map((p) => createHotpathClient({ url: `${p.url}/trpc` }));
  }, 120_000);

  afterAll(async () => {
    const codes = await Promise.all(processes.map((p) => p.stop()));
    expect(codes).toEqual(processes.map(() => 0));
    await deletePrefix(redis, `${app}:`);
    await redis.close();
    const db = await openPostgresDatabase({ url: TEST_POSTGRES_URL, schema, max: 1 });
    await db.exec(`drop schema ${schema} cascade`);
    await db.close();
  }, 60_000);

  it(
    "the strict limit holds globally: 10 tips allowed in total, not 30, even across a window boundary",
    { timeout: 120_000 },
    async () => {
      const { token } = await (clients[0] as HotpathClient).sessions.login.mutate({
        username: "dave",
        password: "hotpath-demo",
      });
      const authed = processes.map((p) =>
        createHotpathClient({
          url: `${p.url}/trpc`,
          headers: { authorization: `Bearer ${token}` },
        }),
      );
      const status = await (clients[1] as HotpathClient).streams.status.query({
        username: "alice",
      });
      const streamId = status.stream?.id ?? 0;
      const wave = (first: number) =>
        Promise.all(
          Array.from({ length: 15 }, (_, n) => first + n).map((i) =>
            (authed[i % 3] as HotpathClient).tips.quick
              .mutate({ streamId, amount: 1 }, { context: { idempotencyKey: `scale-${i}` } })
              .then(() => "ok")
              .catch((error: unknown) =>
                isHotpathClientError(error) ? (error.data?.code ?? "?") : String(error),
              ),
          ),
        );
      // The burst always straddles a boundary of the strict tier's 1-minute window (its windows are
      // epoch aligned): 15 tips shortly before it, 15 just after. The strict tier is an exact
      // sliding window (RATE_LIMIT_TIERS.strict, slidingWindowLog), so no boundary lets one more
      // through; the approximate sliding window admitted 11 here.
      expect(RATE_LIMIT_TIERS.strict).toMatchObject({ limit: 10, algorithm: "slidingWindowLog" });
      let boundary = (Math.floor(Date.now() / WINDOW_MS) + 1) * WINDOW_MS;
      if (boundary - Date.now() < LEAD_MS + 500) boundary += WINDOW_MS;
      await sleep(boundary - LEAD_MS - Date.now());
      const before = await wave(0);
      await sleep(Math.max(0, boundary + 50 - Date.now()));
      const outcomes = [...before, ...(await wave(15))];
      expect(outcomes.filter((o) => o === "ok")).toHaveLength(10);
      expect(outcomes.filter((o) => o === "TOO_MANY_REQUESTS")).toHaveLength(20);
    },
  );

  it("a cache invalidation done through one instance is seen by the others", async () => {
    const [a, b, c] = clients as [HotpathClient, HotpathClient, HotpathClient];
    const status = await a.streams.status.query({ username: "carol" });
    const carolId = status.creator.id;
    const before = await a.users.byId.query({ id: carolId });
    expect((await c.users.byId.query({ id: carolId })).displayName).toBe(before.displayName);
    const { token } = await b.sessions.login.mutate({
      username: "carol",
      password: "hotpath-demo",
    });
    const carolOnB = createHotpathClient({
      url: `${(processes[1] as ApiProcess).url}/trpc`,
      headers: { authorization: `Bearer ${token}` },
    });
    await carolOnB.users.update.mutate({ displayName: "Carol, renamed on B" });
    expect((await a.users.byId.query({ id: carolId })).displayName).toBe("Carol, renamed on B");
    expect((await c.users.byId.query({ id: carolId })).displayName).toBe("Carol, renamed on B");
    const session = createHotpathClient({
      url: `${(processes[2] as ApiProcess).url}/trpc`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect((await session.sessions.me.query()).user.displayName).toBe("Carol, renamed on B");
  });
});
