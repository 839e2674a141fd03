import { keySlot } from "@hotpath/config";
import { redisFromEnv, type HotpathRedis } from "@hotpath/redis";
import {
  keysPerMaster,
  scanAll,
  startRedisCluster,
  type RedisClusterHandle,
} from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dayOf, feedKey, leaderboardKey, tipCounterKey } from "../src/adapters/projections.ts";
import { countTips, listTips } from "../src/db/tips.ts";
import { loadEnv } from "../src/env.ts";
import {
  liveStreamOf,
  openTestApi,
  TEST_ADMIN_TOKEN,
  tipRequest,
  type TestApi,
} from "./helpers/runtime.ts";
import { insertPendingTip } from "./helpers/pending-tip.ts";
import { alignToWindow } from "./helpers/wait.ts";

// The API against a real Redis Cluster (3 masters + 3 replicas, over TCP): the tip projections,
// the reconcile, the rate limit and idempotency, each key group on its own slot.
let cluster: RedisClusterHandle;
let redis: HotpathRedis;
let t: TestApi;
let clusterStartMs = 0;

beforeAll(async () => {
  const started = performance.now();
  cluster = await startRedisCluster();
  clusterStartMs = Math.round(performance.now() - started);
  // As the API's composition root builds it: REDIS_URL=redis+cluster://… through the env schema.
  const env = loadEnv({ NODE_ENV: "test", REDIS_URL: cluster.url });
  expect(env.REDIS_URL).toBe(cluster.url);
  redis = redisFromEnv(env, { timeoutMs: 5000 });
  // Limits raised: this API tests projections and idempotency; the limit has its own API below.
  t = await openTestApi({
    redis,
    rateLimitPolicies: { strict: "1000/1m", "plan:free": "1000/1m" },
  });
}, 90_000);

afterAll(async () => {
  // The cluster is stopped even when closing the API fails: six redis-servers must not outlive the file.
  try {
    await t?.close();
    await redis?.close();
  } finally {
    await cluster?.stop();
  }
  console.info(`api cluster test: the 6-node cluster started in ${clusterStartMs} ms`);
});

const admin = () => t.caller({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` }).api;
const userId = async (username: string) =>
  (await t.db.query<{ id: number }>("select id from users where username = $1", [username]))[0]!.id;

/** Sums of PostgreSQL's tips: per creator, per tipper, and a creator's count and cents. */
async function truth() {
  const tips = await listTips(t.db);
  const sum = (pick: (tip: (typeof tips)[number]) => number) => {
    const totals = new Map<string, number>();
    for (const tip of tips)
      totals.set(String(pick(tip)), (totals.get(String(pick(tip))) ?? 0) + tip.amountCents);
    return Object.fromEntries(totals);
  };
  return {
    tips,
    creators: sum((tip) => tip.creatorId),
    tippers: sum((tip) => tip.fromUserId),
  };
}

async function board(name: "creators" | "tippers") {
  const top = await t.runtime.deps.projections.top(name, "alltime", 100);
  return Object.fromEntries(top.map((entry) => [entry.member, entry.score]));
}

describe("the API on a Redis Cluster", () => {
  it("tips from several users to several creators: boards, 30-day counters and feeds equal PostgreSQL", async () => {
    const streams = [await liveStreamOf(t.db, "alice"), await liveStreamOf(t.db, "bob")];
    const tokens = [await t.login("dave"), await t.login("erin"), await t.login("carol")];
    const responses = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        t.handler(
          tipRequest(tokens[i % 3]!, `cluster-tip-${i}`, {
            streamId: streams[i % 2]!.streamId,
            amount: 1 + (i % 5),
          }),
        ),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    for (const response of responses) {
      const body = (await response.json()) as { result: { data: { projected: boolean } } };
      expect(body.result.data.projected).toBe(true);
    }

    const want = await truth();
    expect(await board("creators")).toEqual(want.creators);
    expect(await board("tippers")).toEqual(want.tippers);
    for (const { creatorId } of streams) {
      const received = want.tips.filter((tip) => tip.creatorId === creatorId);
      expect(await t.runtime.deps.projections.tips30d(creatorId)).toEqual({
        count: received.length,
        cents: received.reduce((sum, tip) => sum + tip.amountCents, 0),
      });
    }
    const newest = want.tips.map((tip) => tip.id).sort((a, b) => b - a);
    const global = await t.runtime.deps.projections.recent(0, 100);
    expect(global.map((entry) => entry.tipId)).toEqual(newest);
    expect(await admin().jobs.reconcile({ fix: false })).toMatchObject({ drift: [] });

    // The projections are spread over the masters, not on one node: each key group (a board, a
    // user, the global feed) is a slot of its own.
    const { items: keys } = await scanAll((cursor) =>
      redis.scan(cursor, { match: `${t.app}:*`, count: 500 }),
    );
    const projectionKeys = keys.filter((key) => /^[^:]+:(lb|feed|count):/.test(key));
    const perMaster = keysPerMaster(await cluster.topology(), projectionKeys, keySlot);
    expect(perMaster.has(undefined)).toBe(false);
    expect(perMaster.size).toBeGreaterThanOrEqual(2);
  });

  it("the reconcile finds the drift injected on several masters, repairs it per slot, and counts a pending tip once", async () => {
    const { creatorId, streamId } = await liveStreamOf(t.db, "alice");
    const dave = await userId("dave");
    const now = Date.now();
    const bucket = tipCounterKey(t.app, creatorId, dayOf(now));
    const alltime = leaderboardKey(t.app, "creators", "alltime", now);
    const feed = feedKey(t.app, dave);
    // Four different slots (a board, two users, the global feed).
    expect(new Set([bucket, alltime, feed, feedKey(t.app, 0)].map(keySlot)).size).toBe(4);
    await redis.zincrby(alltime, 999, String(creatorId));
    await redis.hincrby(bucket, "n", 5);
    await redis.lpop(feed);
    await redis.lpush(feed, "not a feed entry");
    await redis.del(feedKey(t.app, 0));
    // Committed with its outbox row, projections not applied (Redis failed after the commit).
    const pending = await insertPendingTip(t.db, {
      streamId,
      fromUserId: dave,
      amountCents: 4321,
      idempotencyKey: `cluster-pending-${now}`,
    });

    const report = await admin().jobs.reconcile({ fix: true });
    expect(report.rebuilt).toBe(true);
    const kinds = new Set(
      report.drift.map((d) => `${d.projection}:${"userId" in d ? d.userId : ""}`),
    );
    expect(kinds).toEqual(
      new Set(["leaderboard:", "counter:", `feed:${dave}`, "feed:0", `feed:${creatorId}`]),
    );
    expect(await admin().jobs.reconcile({ fix: false })).toMatchObject({ drift: [] });
    const want = await truth();
    expect(await board("creators")).toEqual(want.creators);
    // Rebuilt keys expire as live ones do.
    expect(await redis.ttl(bucket)).toBeGreaterThan(30 * 86_400);
    expect(await redis.ttl(alltime)).toBe(-1);
    // The pending tip's delivery comes afterwards: counted by the rebuild, not again.
    expect(await t.runtime.deps.outbox.applyById(pending.id)).toBe("already-applied");
    expect(await admin().jobs.reconcile({ fix: false })).toMatchObject({ drift: [] });
  });

  it("idempotency: 20 concurrent duplicates run once, then replay with Idempotent-Replayed", async () => {
    const token = await t.login("erin");
    const { streamId, creatorId } = await liveStreamOf(t.db, "bob");
    const rowsBefore = await countTips(t.db, { streamId });
    const scoreBefore = (await board("creators"))[String(creatorId)] ?? 0;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.handler(tipRequest(token, "cluster-dup", { streamId, amount: 3.33 })),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(await countTips(t.db, { streamId })).toBe(rowsBefore + 1);
    expect(((await board("creators"))[String(creatorId)] ?? 0) - scoreBefore).toBe(333);
    const replay = await t.handler(tipRequest(token, "cluster-dup", { streamId, amount: 3.33 }));
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  });

  it("rate limit: the strict tier's 3 per minute hold on the cluster, the 4th gets 429 with Retry-After", async () => {
    const strict = await openTestApi({ redis, rateLimitPolicies: { strict: "3/1m" } });
    try {
      const token = await strict.login("dave");
      const { streamId } = await liveStreamOf(strict.db, "alice");
      await alignToWindow();
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await strict.handler(
          tipRequest(token, `cluster-limit-${i}`, { streamId, amount: 1 }),
        );
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(last?.headers.get("x-ratelimit-remaining")).toBe("0");
    } finally {
      await strict.close();
    }
  });
});
