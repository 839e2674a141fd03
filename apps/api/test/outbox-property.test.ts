import {
  DEV_CREDENTIALS,
  startQStashServer,
  type RunningQStashServer,
} from "@hotpath/qstash-server";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import {
  deletePrefix,
  startRedisServer,
  startTcpProxy,
  uniquePrefix,
  type RedisServerHandle,
  type TcpProxy,
} from "@hotpath/testing";
import { Client, Receiver } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { countPendingOutbox } from "../src/db/outbox.ts";
import { JOBS_WEBHOOK_PATH } from "../src/jobs/api-jobs.ts";
import { liveStreamOf, openTestApi, tipRequest, type TestApi } from "./helpers/runtime.ts";
import { serveLazily } from "./helpers/serve.ts";
import { waitUntil } from "./helpers/wait.ts";

const TIPS = 100;

describe("outbox property: every committed tip is on the leaderboard exactly once", () => {
  let redisServer: RedisServerHandle;
  let proxy: TcpProxy;
  let redis: HotpathRedis;
  let qstash: RunningQStashServer;
  const qstashPrefix = uniquePrefix("outbox-prop-qstash");
  let http: Awaited<ReturnType<typeof serveLazily>>;
  let t: TestApi;

  beforeAll(async () => {
    redisServer = await startRedisServer();
    proxy = await startTcpProxy(redisServer.port);
    redis = createRedis({ url: proxy.url, timeoutMs: 500 });
    qstash = await startQStashServer({
      redisUrl: inject("redisUrl"),
      port: 0,
      prefix: qstashPrefix,
      retryDelayScale: 0.001,
    });
    http = await serveLazily();
    t = await openTestApi({
      redis,
      rateLimitPolicies: { strict: "100000/1m", "plan:free": "100000/1m" },
      env: { REDIS_TIMEOUT_MS: "500", OUTBOX_RELAY_AFTER_SECONDS: "1" },
      runtime: {
        qstash: {
          client: new Client({ baseUrl: qstash.url, token: DEV_CREDENTIALS.token }),
          receiver: new Receiver({
            currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
            nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
          }),
          webhookUrl: `http://127.0.0.1:${http.port}${JOBS_WEBHOOK_PATH}`,
          retries: 100,
          retryDelay: "200000",
        },
      },
    });
    http.serve((request) => t.handler(request));
  });

  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await http?.close();
    await qstash?.close();
    const shared = createRedis({ url: inject("redisUrl") });
    await deletePrefix(shared, qstashPrefix).catch(() => undefined);
    await shared.close();
    await redis?.close();
    await proxy?.close();
    await redisServer?.stop();
  });

  it(`${TIPS} concurrent tips with random Redis cuts: leaderboard total = PostgreSQL sum`, async () => {
    const token = await t.login("dave");
    const { streamId, creatorId } = await liveStreamOf(t.db, "alice");
    let cutting = true;
    const flapper = (async () => {
      while (cutting) {
        if (Math.random() < 0.5) proxy.cut();
        else proxy.restore();
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
      }
      proxy.restore();
    })();
    const statuses = await Promise.all(
      Array.from({ length: TIPS }, async (_, i) => {
        const response = await t.handler(
          tipRequest(token, `prop-${i}-${Date.now()}`, { streamId, amount: 1 + (i % 7) }),
        );
        return response.status;
      }),
    );
    cutting = false;
    await flapper;
    // Requests refused while Redis was cut (idempotency fails closed) committed nothing; the
    // others committed, projected inline or not.
    expect(statuses).toContain(200);
    const pgSum = async () =>
      (
        await t.db.query<{ cents: number }>(
          `select coalesce(sum((t.amount * 100)::int), 0)::int as cents
           from tips t join streams s on s.id = t.stream_id where s.creator_id = $1`,
          [creatorId],
        )
      )[0]?.cents ?? 0;
    const boardSum = async () => {
      const entry = await t.runtime.deps.projections.rank("creators", "alltime", String(creatorId));
      return entry?.score ?? 0;
    };
    await waitUntil(
      async () => {
        if ((await countPendingOutbox(t.db)) > 0) return false;
        // The client's breaker may still be open for a moment after the last cut.
        return (await boardSum().catch(() => -1)) === (await pgSum());
      },
      { timeoutMs: 45_000, intervalMs: 200, what: "every committed tip on the leaderboard" },
    );
    expect(await boardSum()).toBe(await pgSum());
  });
});
