import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leaderboardKey } from "../src/adapters/projections.ts";
import { openTestApi, TEST_ADMIN_TOKEN, type TestApi } from "./helpers/runtime.ts";

describe("projection reconcile and rebuild from PostgreSQL", () => {
  let t: TestApi;
  const admin = () => t.caller({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` }).api;
  const alltime = (board: "creators" | "tippers") =>
    leaderboardKey(t.app, board, "alltime", Date.now());
  const truth = async () => {
    const rows = await t.db.query<{ creator_id: number; cents: number }>(
      `select s.creator_id, sum((t.amount * 100)::int)::int as cents
       from tips t join streams s on s.id = t.stream_id group by s.creator_id`,
    );
    return Object.fromEntries(rows.map((row) => [String(row.creator_id), row.cents]));
  };
  const board = async () =>
    Object.fromEntries(
      (await t.runtime.deps.projections.top("creators", "alltime", 100)).map((e) => [
        e.member,
        e.score,
      ]),
    );

  beforeAll(async () => {
    t = await openTestApi();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("reports the drift of a corrupted leaderboard, rebuilds it to the PostgreSQL truth, then reports none", async () => {
    const expected = await truth();
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(await board()).toEqual(expected);
    const [victim] = Object.keys(expected);
    await t.redis.zincrby(alltime("creators"), 999, victim!);
    await t.redis.zadd(alltime("creators"), { score: 5, member: "424242" });
    const tippers = await t.runtime.deps.projections.top("tippers", "alltime", 1);
    await t.redis.zrem(alltime("tippers"), tippers[0]!.member);

    const report = await admin().jobs.reconcile({ fix: true });
    expect(report.rebuilt).toBe(true);
    expect(report.drift).toEqual(
      expect.arrayContaining([
        {
          projection: "leaderboard",
          board: "creators",
          period: "alltime",
          member: victim,
          expected: expected[victim!],
          actual: expected[victim!]! + 999,
        },
        {
          projection: "leaderboard",
          board: "creators",
          period: "alltime",
          member: "424242",
          expected: 0,
          actual: 5,
        },
        {
          projection: "leaderboard",
          board: "tippers",
          period: "alltime",
          member: tippers[0]!.member,
          expected: tippers[0]!.score,
          actual: 0,
        },
      ]),
    );
    expect(await board()).toEqual(expected);
    expect((await t.runtime.deps.projections.top("tippers", "alltime", 1))[0]).toEqual(tippers[0]);
    const again = await admin().jobs.reconcile({ fix: false });
    expect(again).toMatchObject({ drift: [], rebuilt: false });
  });

  it("rebuild without QStash runs inline and is admin-only", async () => {
    const result = await admin().jobs.rebuild();
    expect(result).toMatchObject({ enqueued: false, report: { rebuilt: true, drift: [] } });
    expect(await board()).toEqual(await truth());
    await expect(t.caller().api.jobs.rebuild()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(await admin().jobs.outbox()).toEqual({ pending: 0, qstash: false });
  });
});
