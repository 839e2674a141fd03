import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveStreamOf, openTestApi, tipRequest, type TestApi } from "./helpers/runtime.ts";
import { alignToWindow } from "./helpers/wait.ts";

describe("plan quotas on tips.quick", () => {
  let t: TestApi;
  let streamId: number;

  beforeAll(async () => {
    // The strict tier is raised so the plan quota is what binds; the free plan is made small.
    t = await openTestApi({ rateLimitPolicies: { strict: "1000/1m", "plan:free": "3/1m" } });
    ({ streamId } = await liveStreamOf(t.db, "alice"));
  });
  afterAll(async () => {
    await t.close();
  });

  const tip = (token: string, key: string) =>
    t.handler(tipRequest(token, key, { streamId, amount: 1 }));

  it("a free user is held to the free quota, a pro user to the pro one, both to the route tier", async () => {
    // The burst must fall inside one window to meet the limit exactly.
    await alignToWindow();
    const dave = await t.login("dave"); // free
    const bob = await t.login("bob"); // pro
    const free = [];
    for (let i = 0; i < 4; i++) free.push(await tip(dave, `free-${i}`));
    expect(free.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(free[0]?.headers.get("ratelimit-policy")).toContain('"plan:free";q=3;w=60');
    expect(free[0]?.headers.get("ratelimit-policy")).toContain('"strict";q=1000;w=60');
    const blocked = (await free[3]?.json()) as {
      error: { data: { limit: number; remaining: number } };
    };
    expect(blocked.error.data).toMatchObject({ limit: 3, remaining: 0 });
    const pro = [];
    for (let i = 0; i < 5; i++) pro.push((await tip(bob, `pro-${i}`)).status);
    expect(pro).toEqual([200, 200, 200, 200, 200]);
  });
});
