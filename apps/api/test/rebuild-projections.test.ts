import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dayOf, feedKey, tipCounterKey } from "../src/adapters/projections.ts";
import { insertOutboxRow } from "../src/db/outbox.ts";
import { insertTipOnce, listTips, type Tip } from "../src/db/tips.ts";
import { liveStreamOf, openTestApi, TEST_ADMIN_TOKEN, type TestApi } from "./helpers/runtime.ts";

describe("rebuild of the 30-day counters and the activity feeds", () => {
  let t: TestApi;
  let stream: { streamId: number; creatorId: number };
  const admin = () => t.caller({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` }).api;
  const userId = async (username: string) =>
    (await t.db.query<{ id: number }>("select id from users where username = $1", [username]))[0]!
      .id;
  /** PostgreSQL's tips of a creator over the last 30 days (every tip here is a few seconds old). */
  const truth30d = async (creatorId: number) => {
    const tips = (await listTips(t.db)).filter((tip) => tip.creatorId === creatorId);
    return { count: tips.length, cents: tips.reduce((sum, tip) => sum + tip.amountCents, 0) };
  };
  /** PostgreSQL's newest tips a user received or sent, newest first, as feed tip ids. */
  const truthFeed = async (user: number) =>
    (await listTips(t.db))
      .filter((tip) => user === 0 || tip.creatorId === user || tip.fromUserId === user)
      .map((tip) => tip.id)
      .sort((a, b) => b - a);
  const feedIds = async (user: number) =>
    (await t.runtime.deps.projections.recent(user, 100)).map((entry) => entry.tipId);

  beforeAll(async () => {
    t = await openTestApi();
    stream = await liveStreamOf(t.db, "alice");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("restores a corrupted counter and a corrupted feed to the PostgreSQL truth and reports both", async () => {
    const tips = (await listTips(t.db)).filter((tip) => tip.creatorId === stream.creatorId);
    const newest = tips.at(-1)!;
    const expected30d = await truth30d(stream.creatorId);
    expect(await t.runtime.deps.projections.tips30d(stream.creatorId)).toEqual(expected30d);
    expect(await feedIds(stream.creatorId)).toEqual(await truthFeed(stream.creatorId));

    // The bucket of the seeded tips' own day (whatever day it is now, it is within the 30 days).
    const day = dayOf(Date.parse(newest.createdAt));
    const bucket = tipCounterKey(t.app, stream.creatorId, day);
    const before = {
      count: Number(await t.redis.hget(bucket, "n")),
      cents: Number(await t.redis.hget(bucket, "cents")),
    };
    await t.redis.hincrby(bucket, "n", 5);
    await t.redis.hincrby(bucket, "cents", 12_345);
    const feed = feedKey(t.app, stream.creatorId);
    const dropped = (await t.runtime.deps.projections.recent(stream.creatorId, 1))[0]!;
    await t.redis.lpop(feed);
    await t.redis.lpush(feed, "not a feed entry");
    await t.redis.del(feedKey(t.app, 0));

    const report = await admin().jobs.reconcile({ fix: true });
    expect(report.rebuilt).toBe(true);
    expect(report.drift).toEqual(
      expect.arrayContaining([
        {
          projection: "counter",
          creatorId: stream.creatorId,
          day,
          expected: before,
          actual: { count: before.count + 5, cents: before.cents + 12_345 },
        },
        {
          projection: "feed",
          userId: stream.creatorId,
          missing: [dropped.tipId],
          unexpected: [],
          invalid: 1,
        },
        {
          projection: "feed",
          userId: 0,
          missing: await truthFeed(0),
          unexpected: [],
          invalid: 0,
        },
      ]),
    );
    // Only what was corrupted is reported.
    expect(report.drift.filter((d) => d.projection === "leaderboard")).toEqual([]);
    expect(report.drift).toHaveLength(3);

    expect(await t.runtime.deps.projections.tips30d(stream.creatorId)).toEqual(expected30d);
    expect(await feedIds(stream.creatorId)).toEqual(await truthFeed(stream.creatorId));
    expect(await feedIds(0)).toEqual(await truthFeed(0));
    // The rebuilt keys expire like live ones: the counter bucket after 31 days, the feed never.
    expect(await t.redis.ttl(bucket)).toBeGreaterThan(30 * 86_400);
    expect(await t.redis.ttl(feed)).toBe(-1);
    expect(await admin().jobs.reconcile({ fix: false })).toMatchObject({
      drift: [],
      rebuilt: false,
    });
  });

  it("a tip still pending in the outbox is counted by the rebuild once, and its later apply adds nothing", async () => {
    const dave = await userId("dave");
    // Committed with its outbox row, projections not applied (as when Redis failed after the commit).
    const { tip } = await t.db.transaction(async (tx) => {
      const inserted = await insertTipOnce(tx, {
        streamId: stream.streamId,
        fromUserId: dave,
        amountCents: 4321,
        idempotencyKey: `pending-${Date.now()}`,
      });
      await insertOutboxRow(tx, inserted.tip.id);
      return inserted;
    });
    const report = await admin().jobs.reconcile({ fix: true });
    expect(report.drift).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          projection: "leaderboard",
          board: "creators",
          period: "alltime",
          member: String(stream.creatorId),
        }),
        expect.objectContaining({ projection: "feed", userId: dave, missing: [tip.id] }),
      ]),
    );
    const rebuilt = await scores();
    // The job (or the relay) delivers the pending row afterwards: it must not count it twice.
    expect(await t.runtime.deps.outbox.applyById(tip.id)).toBe("already-applied");
    expect(await scores()).toEqual(rebuilt);
    expect(await t.runtime.deps.projections.tips30d(stream.creatorId)).toEqual(
      await truth30d(stream.creatorId),
    );
    expect((await feedIds(dave)).filter((id) => id === tip.id)).toEqual([tip.id]);
    expect(await admin().jobs.reconcile({ fix: false })).toMatchObject({
      drift: [],
      rebuilt: false,
    });
  });

  async function scores(): Promise<{ creator: number; tipper: number }> {
    const tips: Tip[] = await listTips(t.db);
    const creator = tips
      .filter((tip) => tip.creatorId === stream.creatorId)
      .reduce((sum, tip) => sum + tip.amountCents, 0);
    const board = await t.runtime.deps.projections.rank(
      "creators",
      "alltime",
      String(stream.creatorId),
    );
    expect(board?.score).toBe(creator);
    const dave = await userId("dave");
    const tipper = await t.runtime.deps.projections.rank("tippers", "alltime", String(dave));
    return { creator: board?.score ?? 0, tipper: tipper?.score ?? 0 };
  }
});
