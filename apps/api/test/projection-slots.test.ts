import { keySlot } from "@hotpath/config";
import { openTestRedis } from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boardTag, tipAppliedKey, tipAppliedKeys } from "../src/adapters/projection-groups.ts";
import { dayOf, feedKey, leaderboardKey, tipCounterKey } from "../src/adapters/projections.ts";
import {
  liveStreamOf,
  openTestApi,
  TEST_ADMIN_TOKEN,
  tipRequest,
  type TestApi,
} from "./helpers/runtime.ts";
import { insertPendingTip } from "./helpers/pending-tip.ts";

// The projections and the reconcile on a single Redis whose client refuses, before sending, what
// a Redis Cluster would refuse with CROSSSLOT (a script, MULTI or multi-key command over keys of
// several slots): the API's whole tip path runs under that guard here.
describe("tip projections in Redis Cluster slot groups (single Redis, slot guard on)", () => {
  let t: TestApi;
  let redis: HotpathRedis;
  let token: string;
  let stream: { streamId: number; creatorId: number };
  const admin = () => t.caller({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` }).api;
  const userId = async (username: string) =>
    (await t.db.query<{ id: number }>("select id from users where username = $1", [username]))[0]!
      .id;

  beforeAll(async () => {
    redis = openTestRedis("tcp", { guardSlots: true });
    t = await openTestApi({
      redis,
      rateLimitPolicies: { strict: "1000/1m", "plan:free": "1000/1m" },
    });
    token = await t.login("dave");
    stream = await liveStreamOf(t.db, "alice");
  });
  afterAll(async () => {
    await t?.close();
    await redis?.close();
  });

  it("each group of a tip's keys shares one slot, and the groups are not all one slot", () => {
    const tip = { id: 7, creatorId: 11, fromUserId: 12 };
    const at = Date.now();
    const groups = [
      ["creators", "tippers"].flatMap((board) =>
        (["daily", "weekly", "alltime"] as const).map((period) =>
          leaderboardKey(t.app, board as "creators" | "tippers", period, at),
        ),
      ),
      [tipCounterKey(t.app, tip.creatorId, dayOf(at)), feedKey(t.app, tip.creatorId)],
      [feedKey(t.app, tip.fromUserId)],
      [feedKey(t.app, 0)],
    ];
    const markers = tipAppliedKeys(t.app, tip);
    expect(markers).toHaveLength(5);
    // Boards: creators' three periods with the creators' marker, tippers' with theirs.
    const [creators, tippers] = [groups[0]!.slice(0, 3), groups[0]!.slice(3)];
    const all = [
      [markers[0]!, ...creators],
      [markers[1]!, ...tippers],
    ];
    all.push(
      [markers[2]!, ...groups[1]!],
      [markers[3]!, ...groups[2]!],
      [markers[4]!, ...groups[3]!],
    );
    for (const group of all) expect(new Set(group.map(keySlot)).size).toBe(1);
    expect(new Set(all.map((group) => keySlot(group[0]!))).size).toBe(5);
    // A creator tipping themself: their feed and counter group once.
    expect(tipAppliedKeys(t.app, { id: 7, creatorId: 11, fromUserId: 11 })).toHaveLength(4);
  });

  it("a tip through the API is projected (no CROSSSLOT), and a forced reconcile with a pending tip runs and finds nothing", async () => {
    // The seed applied its tips through the same path: nothing was refused.
    expect(t.logger.lines.filter((line) => JSON.stringify(line).includes("CROSSSLOT"))).toEqual([]);
    const response = await t.handler(tipRequest(token, "slots-1", { ...stream, amount: 2.5 }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: { data: { projected: boolean } } };
    expect(body.result.data.projected).toBe(true);

    const dave = await userId("dave");
    const pending = await insertPendingTip(t.db, {
      streamId: stream.streamId,
      fromUserId: dave,
      amountCents: 1234,
      idempotencyKey: `slots-pending-${Date.now()}`,
    });
    const report = await admin().jobs.reconcile({ fix: true, force: true });
    expect(report.rebuilt).toBe(true);
    expect(await admin().jobs.reconcile({ fix: false })).toMatchObject({ drift: [] });
    // The pending tip's later delivery adds nothing: every group got its marker with its swap.
    expect(await t.runtime.deps.outbox.applyById(pending.id)).toBe("already-applied");
    expect(await admin().jobs.reconcile({ fix: false })).toMatchObject({ drift: [] });
  });

  it("a tip one group of which had landed (its node failed over mid-apply) is completed once, that group untouched", async () => {
    const erin = await userId("erin");
    const tip = await insertPendingTip(t.db, {
      streamId: stream.streamId,
      fromUserId: erin,
      amountCents: 777,
      idempotencyKey: `slots-partial-${Date.now()}`,
    });
    const tippersBefore = await t.runtime.deps.projections.rank("tippers", "alltime", `${erin}`);
    const creatorsBefore = await t.runtime.deps.projections.rank(
      "creators",
      "alltime",
      `${stream.creatorId}`,
    );
    // The tippers group landed (its marker and its three boards), the others did not.
    await redis.set(tipAppliedKey(t.app, boardTag("tippers"), tip.id), "1");
    for (const period of ["daily", "weekly", "alltime"] as const)
      await redis.zincrby(leaderboardKey(t.app, "tippers", period, Date.now()), 777, `${erin}`);

    expect(await t.runtime.deps.projections.apply(tip)).toBe(true);
    expect(await t.runtime.deps.projections.apply(tip)).toBe(false);
    const creators = await t.runtime.deps.projections.rank(
      "creators",
      "alltime",
      `${stream.creatorId}`,
    );
    expect(creators!.score - (creatorsBefore?.score ?? 0)).toBe(777);
    const tippers = await t.runtime.deps.projections.rank("tippers", "alltime", `${erin}`);
    expect(tippers!.score - (tippersBefore?.score ?? 0)).toBe(777);
    const feed = await t.runtime.deps.projections.recent(erin, 100);
    expect(feed.filter((entry) => entry.tipId === tip.id)).toHaveLength(1);
    expect(await t.runtime.deps.outbox.applyById(tip.id)).toBe("already-applied");
    expect(await admin().jobs.reconcile({ fix: false })).toMatchObject({ drift: [] });
  });
});
