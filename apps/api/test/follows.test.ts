import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countFollowers } from "../src/db/follows.ts";
import {
  bearer,
  liveStreamOf,
  openTestApi,
  trpcMutation,
  type TestApi,
} from "./helpers/runtime.ts";
import { waitUntil } from "./helpers/wait.ts";

describe("follows and the notification feed (no QStash: notifications written in-process)", () => {
  let t: TestApi;
  let alice: { streamId: number; creatorId: number };
  const tokens: Record<string, string> = {};
  const as = (user: string) => t.caller(bearer(tokens[user]!)).api;
  const notificationsOf = async (user: string) =>
    (await as(user).users.notifications({ n: 100 })).notifications;

  beforeAll(async () => {
    t = await openTestApi();
    for (const user of ["bob", "carol", "dave", "erin"]) tokens[user] = await t.login(user);
    alice = await liveStreamOf(t.db, "alice");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("follow and unfollow are idempotent; a tip notifies the creator's followers but the tipper", async () => {
    expect(await as("bob").users.follow({ creatorId: alice.creatorId })).toEqual({
      creatorId: alice.creatorId,
      following: true,
      changed: true,
    });
    expect((await as("bob").users.follow({ creatorId: alice.creatorId })).changed).toBe(false);
    await as("carol").users.follow({ creatorId: alice.creatorId });
    await as("dave").users.follow({ creatorId: alice.creatorId });
    expect(await countFollowers(t.db, alice.creatorId)).toBe(3);

    const tip = await t
      .caller(bearer(tokens.dave!, { "idempotency-key": `follows-${Date.now()}` }))
      .api.tips.quick({ streamId: alice.streamId, amount: 4.5 });
    await waitUntil(
      async () =>
        (await notificationsOf("bob")).length === 1 &&
        (await notificationsOf("carol")).length === 1,
      { what: "the followers' notifications" },
    );
    expect((await notificationsOf("bob"))[0]).toMatchObject({
      tipId: tip.tip.id,
      streamId: alice.streamId,
      creatorId: alice.creatorId,
      creatorUsername: "alice",
      amount: "4.50",
    });
    // The tipper follows alice too, and is not notified of their own tip; erin follows nobody.
    expect(await notificationsOf("dave")).toEqual([]);
    expect(await notificationsOf("erin")).toEqual([]);

    expect(await as("carol").users.unfollow({ creatorId: alice.creatorId })).toEqual({
      creatorId: alice.creatorId,
      following: false,
      changed: true,
    });
    expect((await as("carol").users.unfollow({ creatorId: alice.creatorId })).changed).toBe(false);
    await t
      .caller(bearer(tokens.dave!, { "idempotency-key": `follows-2-${Date.now()}` }))
      .api.tips.quick({ streamId: alice.streamId, amount: 1 });
    await waitUntil(async () => (await notificationsOf("bob")).length === 2, {
      what: "bob's second notification",
    });
    expect(await notificationsOf("carol")).toHaveLength(1);
  });

  it("answers 403 for following yourself, 404 for an unknown user, 400 naming creatorId, 401 without a session", async () => {
    const aliceToken = await t.login("alice");
    const self = await t.handler(
      trpcMutation("users.follow", { creatorId: alice.creatorId }, bearer(aliceToken)),
    );
    expect(self.status).toBe(403);
    const unknown = await t.handler(
      trpcMutation("users.follow", { creatorId: 999_999 }, bearer(aliceToken)),
    );
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("999999");
    const bad = await t.handler(
      trpcMutation("users.follow", { creatorId: "alice" }, bearer(aliceToken)),
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("creatorId");
    const anonymous = await t.handler(
      trpcMutation("users.unfollow", { creatorId: alice.creatorId }),
    );
    expect(anonymous.status).toBe(401);
  });
});
