import { TRANSPORTS } from "@hotpath/testing";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countTips } from "../src/db/tips.ts";
import { findUserByUsername } from "../src/db/users.ts";
import { bearer, openTestApi, TEST_ADMIN_TOKEN, type TestApi } from "./helpers/runtime.ts";
import { alignToWindow, waitUntil } from "./helpers/wait.ts";

async function rejection(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe.each(TRANSPORTS)("router over %s", (transport) => {
  let t: TestApi;
  let alice: { id: number };
  let dave: { id: number };
  let daveToken: string;

  beforeAll(async () => {
    t = await openTestApi({ transport, rateLimitPolicies: { strict: "100/1m" } });
    alice = (await findUserByUsername(t.db, "alice")) ?? { id: 0 };
    dave = (await findUserByUsername(t.db, "dave")) ?? { id: 0 };
    daveToken = await t.login("dave");
  });
  afterAll(async () => {
    await t.close();
  });

  it("users.byId reads through the cache: a change behind its back is not seen until invalidated", async () => {
    const first = t.caller();
    expect(await first.api.users.byId({ id: alice.id })).toMatchObject({ username: "alice" });
    expect(first.resHeaders.get("x-cache")).toBe("miss");
    await t.db.query("update users set display_name = 'Changed behind the cache' where id = $1", [
      alice.id,
    ]);
    const second = t.caller();
    expect((await second.api.users.byId({ id: alice.id })).displayName).toBe("Alice (creator)");
    expect(second.resHeaders.get("x-cache")).toBe("hit");
    expect(second.resHeaders.get("x-ratelimit-limit")).toBeTruthy();
  });

  it("users.update runs a transaction, then invalidates user:<id> and the cached list pages", async () => {
    const aliceToken = await t.login("alice");
    const page = await t.caller().api.users.list({ page: 1, pageSize: 10 });
    expect(page.total).toBe(5);
    const updated = await t
      .caller(bearer(aliceToken))
      .api.users.update({ displayName: "Alice Updated" });
    expect(updated.displayName).toBe("Alice Updated");
    expect((await t.caller().api.users.byId({ id: alice.id })).displayName).toBe("Alice Updated");
    const pageAfter = await t.caller().api.users.list({ page: 1, pageSize: 10 });
    expect(pageAfter.items.find((u) => u.id === alice.id)?.displayName).toBe("Alice Updated");
  });

  it("users.byId caches not-found negatively and protects the database from a stampede", async () => {
    const missing = 2_000_000_000;
    expect((await rejection(t.caller().api.users.byId({ id: missing }))).code).toBe("NOT_FOUND");
    const again = t.caller();
    expect((await rejection(again.api.users.byId({ id: missing }))).code).toBe("NOT_FOUND");
    expect(again.resHeaders.get("x-cache")).toBe("negative");

    const bob = (await findUserByUsername(t.db, "bob")) ?? { id: 0 };
    const original = t.db.query.bind(t.db);
    let loads = 0;
    t.db.query = async (sql: string, params?: readonly unknown[]) => {
      if (sql.includes("from users where id = $1") && params?.[0] === bob.id) {
        loads += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return original(sql, params);
    };
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => t.caller().api.users.byId({ id: bob.id })),
      );
      expect(new Set(results.map((u) => u.username))).toEqual(new Set(["bob"]));
      expect(loads).toBe(1);
    } finally {
      t.db.query = original;
    }
  });

  it("users.update needs a session (401)", async () => {
    expect((await rejection(t.caller().api.users.update({ displayName: "x" }))).code).toBe(
      "UNAUTHORIZED",
    );
    expect(
      (await rejection(t.caller(bearer("not-a-session")).api.users.update({ displayName: "x" })))
        .code,
    ).toBe("UNAUTHORIZED");
  });

  it("streams.status is cached for everyone but the viewer part is computed per caller", async () => {
    const anonymous = t.caller();
    const status = await anonymous.api.streams.status({ username: "bob" });
    expect(status).toMatchObject({
      live: true,
      creator: { username: "bob" },
      viewer: { loggedIn: false, canTip: false },
    });
    const bobToken = await t.login("bob");
    const asBob = t.caller(bearer(bobToken));
    const bobView = await asBob.api.streams.status({ username: "BOB" });
    expect(asBob.resHeaders.get("x-cache")).toBe("hit");
    expect(bobView.computedAt).toBe(status.computedAt);
    expect(bobView.viewer).toEqual({ loggedIn: true, isOwner: true, canTip: false });
    const asDave = t.caller(bearer(daveToken));
    expect((await asDave.api.streams.status({ username: "bob" })).viewer).toEqual({
      loggedIn: true,
      isOwner: false,
      canTip: true,
    });
    expect(asDave.resHeaders.get("x-ratelimit-limit")).toBe("120");
    expect((await rejection(t.caller().api.streams.status({ username: "nobody_here" }))).code).toBe(
      "NOT_FOUND",
    );
  });

  it("streams.start / stop invalidate the cached status", async () => {
    const carolToken = await t.login("carol");
    expect((await t.caller().api.streams.status({ username: "carol" })).live).toBe(false);
    const started = await t
      .caller(bearer(carolToken))
      .api.streams.start({ title: "Carol is live" });
    expect(started.live).toBe(true);
    const live = await t.caller().api.streams.status({ username: "carol" });
    expect(live).toMatchObject({ live: true, stream: { title: "Carol is live" } });
    await t.caller(bearer(carolToken)).api.streams.stop();
    expect((await t.caller().api.streams.status({ username: "carol" })).live).toBe(false);
    expect((await rejection(t.caller(bearer(carolToken)).api.streams.stop())).code).toBe(
      "NOT_FOUND",
    );
  });

  it("tips.quick stores once, projects into leaderboards and feeds, and replays", async () => {
    const status = await t.caller().api.streams.status({ username: "alice" });
    const streamId = status.stream?.id ?? 0;
    const before = await countTips(t.db);
    const rankBefore = await t
      .caller()
      .api.leaderboard.rank({ member: alice.id })
      .catch(() => ({ score: 0 }));
    const call = t.caller(bearer(daveToken, { "idempotency-key": "router-tip-1" }));
    const result = await call.api.tips.quick({ streamId, amount: 7.25 });
    expect(result).toMatchObject({
      created: true,
      projected: true,
      tip: { amount: "7.25", creatorId: alice.id },
    });
    expect(call.resHeaders.get("idempotent-replayed")).toBeNull();
    const replay = t.caller(bearer(daveToken, { "idempotency-key": "router-tip-1" }));
    expect(await replay.api.tips.quick({ streamId, amount: 7.25 })).toEqual(result);
    expect(replay.resHeaders.get("idempotent-replayed")).toBe("true");
    expect(await countTips(t.db)).toBe(before + 1);

    const rank = await t.caller().api.leaderboard.rank({ member: alice.id });
    expect(rank.score - rankBefore.score).toBe(725);
    const top = await t.caller().api.leaderboard.top({ board: "tippers", period: "daily", n: 5 });
    expect(top.entries.find((e) => e.userId === dave.id)?.cents).toBeGreaterThanOrEqual(725);
    const feed = await t.caller().api.feed.recent({ userId: alice.id, n: 1 });
    expect(feed.entries[0]).toMatchObject({
      tipId: result.tip.id,
      amount: "7.25",
      fromUserId: dave.id,
    });
    const global = await t.caller().api.feed.recent({ n: 1 });
    expect(global.entries[0]?.tipId).toBe(result.tip.id);
    expect((await t.runtime.deps.projections.tips30d(alice.id)).cents).toBeGreaterThanOrEqual(725);
  });

  it("tips.quick answers clear 4xx: key missing 400, reuse with another payload 422, not live 412, unknown 404, own stream 403", async () => {
    const status = await t.caller().api.streams.status({ username: "alice" });
    const streamId = status.stream?.id ?? 0;
    expect(
      (await rejection(t.caller(bearer(daveToken)).api.tips.quick({ streamId, amount: 1 }))).code,
    ).toBe("BAD_REQUEST");
    await t
      .caller(bearer(daveToken, { "idempotency-key": "reuse-1" }))
      .api.tips.quick({ streamId, amount: 1 });
    const mismatch = await rejection(
      t
        .caller(bearer(daveToken, { "idempotency-key": "reuse-1" }))
        .api.tips.quick({ streamId, amount: 2 }),
    );
    expect(mismatch.code).toBe("UNPROCESSABLE_CONTENT");
    const carol = await t.caller().api.streams.status({ username: "carol" });
    const offline = await rejection(
      t
        .caller(bearer(daveToken, { "idempotency-key": "offline-1" }))
        .api.tips.quick({ streamId: carol.stream?.id ?? 0, amount: 1 }),
    );
    expect(offline.code).toBe("PRECONDITION_FAILED");
    const unknown = await rejection(
      t
        .caller(bearer(daveToken, { "idempotency-key": "unknown-1" }))
        .api.tips.quick({ streamId: 999_999, amount: 1 }),
    );
    expect(unknown.code).toBe("NOT_FOUND");
    const aliceToken = await t.login("alice");
    const own = await rejection(
      t
        .caller(bearer(aliceToken, { "idempotency-key": "own-1" }))
        .api.tips.quick({ streamId, amount: 1 }),
    );
    expect(own.code).toBe("FORBIDDEN");
    expect(
      (
        await rejection(
          t.caller({ "idempotency-key": "anon-1" }).api.tips.quick({ streamId, amount: 1 }),
        )
      ).code,
    ).toBe("UNAUTHORIZED");
  });

  it("sessions: wrong password 401, me slides the session, logout ends it", async () => {
    const wrong = await rejection(
      t
        .caller({ "x-forwarded-for": "10.1.1.1" })
        .api.sessions.login({ username: "erin", password: "nope" }),
    );
    expect(wrong.code).toBe("UNAUTHORIZED");
    const unknown = await rejection(
      t
        .caller({ "x-forwarded-for": "10.1.1.2" })
        .api.sessions.login({ username: "ghost", password: "nope" }),
    );
    expect(unknown.code).toBe("UNAUTHORIZED");
    expect(unknown.message).toBe(wrong.message);
    const login = t.caller({ "x-forwarded-for": "10.1.1.3" });
    const session = await login.api.sessions.login({ username: "erin", password: "hotpath-demo" });
    const cookie = login.resHeaders.get("set-cookie") ?? "";
    expect(cookie).toMatch(
      /^hotpath_session=[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/,
    );
    const viaCookie = t.caller({ cookie: `hotpath_session=${session.token}` });
    const me = await viaCookie.api.sessions.me();
    expect(me.user.username).toBe("erin");
    expect(viaCookie.resHeaders.get("set-cookie")).toContain("HttpOnly");
    const key = `${t.app}:session:${session.token}`;
    await t.redis.expire(key, 30);
    await t.caller(bearer(session.token)).api.sessions.me();
    expect(await t.redis.ttl(key)).toBeGreaterThan(1000);
    await t.caller(bearer(session.token)).api.sessions.logout();
    expect((await rejection(t.caller(bearer(session.token)).api.sessions.me())).code).toBe(
      "UNAUTHORIZED",
    );
  });

  it("sessions.login is held to the AUTH limit (5 per minute per client)", async () => {
    // The burst must fall inside one window to meet the limit exactly.
    await alignToWindow();
    const ip = { "x-forwarded-for": "10.200.0.1" };
    for (let i = 0; i < 5; i++) {
      await rejection(
        t.caller(ip).api.sessions.login({ username: "erin", password: `wrong-${i}` }),
      );
    }
    const blocked = await rejection(
      t.caller(ip).api.sessions.login({ username: "erin", password: "hotpath-demo" }),
    );
    expect(blocked.code).toBe("TOO_MANY_REQUESTS");
    expect(blocked.cause).toMatchObject({ limit: 5, remaining: 0 });
    expect((blocked.cause as unknown as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(
      1,
    );
  });

  it("metrics: read model, identifiers and key distribution only with the admin token", async () => {
    await t.runtime.deps.cache.getOrSet("user", "metrics-probe", () => Promise.resolve(1), {
      ttlSeconds: 5,
    });
    const admin = t.caller(bearer(TEST_ADMIN_TOKEN));
    // The packages flush their counters in the background (the limiter's flush rides on its
    // next call, which each overview makes): wait until Redis has them.
    let overview = await admin.api.metrics.overview({ minutes: 5 });
    await waitUntil(
      async () => {
        overview = await admin.api.metrics.overview({ minutes: 5 });
        const top = await t.runtime.deps.metrics.topIdentifiers(5, 10);
        return (
          "user" in overview.cache &&
          (overview.idempotency.api?.idempotency_first_total ?? 0) >= 1 &&
          top.some((row) => row.blocked >= 1)
        );
      },
      { what: "flushed cache, idempotency and rate-limit metrics", intervalMs: 100 },
    );
    expect((await rejection(t.caller().api.metrics.overview({ minutes: 5 }))).code).toBe(
      "UNAUTHORIZED",
    );
    expect(Object.keys(overview.cache)).toEqual(expect.arrayContaining(["user", "status"]));
    expect(Object.keys(overview.rateLimit).length).toBeGreaterThan(0);
    expect(overview.idempotency.api?.idempotency_first_total ?? 0).toBeGreaterThanOrEqual(1);
    expect(overview.health.ok).toBe(true);
    expect((await rejection(t.caller().api.metrics.topIdentifiers({ minutes: 5 }))).code).toBe(
      "UNAUTHORIZED",
    );
    expect(
      (await rejection(t.caller(bearer(daveToken)).api.metrics.topIdentifiers({ minutes: 5 })))
        .code,
    ).toBe("FORBIDDEN");
    const top = await admin.api.metrics.topIdentifiers({ minutes: 5 });
    expect(top.identifiers.some((row) => row.blocked >= 1)).toBe(true);
    const distribution = await admin.api.metrics.keyDistribution({ sample: 1000 });
    expect(distribution.byArea.session ?? 0).toBeGreaterThanOrEqual(1);
    expect(
      Object.keys(distribution.byGroup).filter((group) => group.startsWith("session")),
    ).toEqual(["session"]);
    expect(distribution.byArea.lb ?? 0).toBeGreaterThanOrEqual(1);
    expect(distribution.byArea.cache ?? 0).toBeGreaterThanOrEqual(1);
  });

  it("health.check reports Redis and the database", async () => {
    const health = await t.caller().api.health.check();
    expect(health).toMatchObject({
      ok: true,
      redis: { ok: true, transport },
      db: { ok: true, kind: "pglite" },
    });
  });
});
