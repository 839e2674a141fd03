import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countTips } from "../src/db/tips.ts";
import { liveStreamOf, openTestApi, tipRequest, type TestApi } from "./helpers/runtime.ts";

describe("tips.quick under concurrency", () => {
  let t: TestApi;
  let token: string;
  let streamId: number;
  let creatorId: number;

  beforeAll(async () => {
    // The strict tier is raised so the 50 callers test idempotency, not the rate limit.
    t = await openTestApi({ rateLimitPolicies: { strict: "1000/1m", "plan:free": "1000/1m" } });
    token = await t.login("dave");
    ({ streamId, creatorId } = await liveStreamOf(t.db, "bob"));
  });
  afterAll(async () => {
    await t.close();
  });

  const tip = (key: string, amount: number) =>
    t.handler(tipRequest(token, key, { streamId, amount }));

  const score = async () =>
    (await t.runtime.deps.projections.rank("creators", "alltime", String(creatorId)))?.score ?? 0;

  it("50 concurrent calls with one Idempotency-Key: one row, one leaderboard increment, same result or 409", async () => {
    const rowsBefore = await countTips(t.db, { streamId });
    const scoreBefore = await score();
    const responses = await Promise.all(Array.from({ length: 50 }, () => tip("same-key-50", 3.33)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    const conflicts = responses.filter((r) => r.status === 409);
    for (const conflict of conflicts)
      expect(Number(conflict.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const bodies = await Promise.all(
      responses.filter((r) => r.status === 200).map((r) => r.text()),
    );
    expect(new Set(bodies).size).toBe(1);
    expect(await countTips(t.db, { streamId })).toBe(rowsBefore + 1);
    expect((await score()) - scoreBefore).toBe(333);
    // After completion every retry is a replay of the same result.
    const retry = await tip("same-key-50", 3.33);
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await retry.text()).toBe(bodies[0]);
  });

  it("different keys are independent tips", async () => {
    const rowsBefore = await countTips(t.db, { streamId });
    const scoreBefore = await score();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => tip(`independent-${i}`, 1.1)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
    const ids = await Promise.all(
      responses.map(
        async (r) =>
          ((await r.json()) as { result: { data: { tip: { id: number } } } }).result.data.tip.id,
      ),
    );
    expect(new Set(ids).size).toBe(10);
    expect(await countTips(t.db, { streamId })).toBe(rowsBefore + 10);
    expect((await score()) - scoreBefore).toBe(1100);
  });
});
