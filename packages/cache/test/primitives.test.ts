import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildKey } from "@hotpath/config";
import type { HotpathRedis } from "@hotpath/redis";
import { TRANSPORTS } from "@hotpath/testing";
import {
  cacheEntryKey,
  createDomainCache,
  createFeed,
  createLeaderboard,
  createSessionStore,
} from "../src/index.ts";
import { isoWeekStamp } from "@hotpath/config";
import { countRequests, useTestApps } from "./helpers.ts";

describe("ISO week stamps", () => {
  it("follow ISO 8601 at year boundaries", () => {
    expect(isoWeekStamp(Date.UTC(2026, 0, 1))).toBe("2026W01");
    expect(isoWeekStamp(Date.UTC(2027, 0, 1))).toBe("2026W53");
    expect(isoWeekStamp(Date.UTC(2024, 11, 30))).toBe("2025W01");
    expect(isoWeekStamp(Date.UTC(2026, 10, 21))).toBe("2026W47");
  });
});

describe.each(TRANSPORTS)("sessions, leaderboards, feeds, domain helpers over %s", (transport) => {
  let redis: HotpathRedis;
  const { newApp } = useTestApps(transport, (client) => (redis = client));

  it("sessions: create, read with sliding expiry, update single fields, destroy", async () => {
    const app = newApp("sess");
    const schema = z.object({ userId: z.number(), role: z.string(), seen: z.date().optional() });
    const sessions = createSessionStore({ redis, app, ttl: 60, schema });
    const id = await sessions.createSession({ userId: 7, role: "viewer" });
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const key = buildKey(app, "session", id);
    await redis.pexpire(key, 10_000);
    expect(await sessions.getSession(id)).toEqual({ userId: 7, role: "viewer" });
    expect(await redis.pttl(key)).toBeGreaterThan(50_000);
    const seen = new Date("2026-11-21T00:00:00Z");
    expect(await sessions.updateSession(id, { role: "admin", seen })).toBe(true);
    expect(await redis.hget(key, "userId")).not.toBeNull();
    expect(await sessions.getSession(id)).toEqual({ userId: 7, role: "admin", seen });
    expect(await sessions.destroySession(id)).toBe(true);
    expect(await sessions.getSession(id)).toBeNull();
    expect(await sessions.updateSession(id, { role: "x" })).toBe(false);
    expect(await redis.exists(key)).toBe(0);
    expect(await sessions.getSession("../etc")).toBeNull();
  });

  it("leaderboards: add, increment, top, rank, around, remove, daily/weekly merged", async () => {
    const app = newApp("lb");
    let clock = Date.UTC(2026, 10, 20, 12);
    const board = createLeaderboard({
      redis,
      app,
      name: "tips",
      periods: ["daily", "weekly"],
      now: () => clock,
    });
    await board.add("ada", 10);
    await board.add("bob", 30);
    await board.add("cy", 20);
    expect(await board.increment("ada", 25)).toBe(35);
    expect(await board.top(2)).toEqual([
      { member: "ada", score: 35, rank: 1 },
      { member: "bob", score: 30, rank: 2 },
    ]);
    expect((await board.top(3, { withScores: false })).map((m) => m.member)).toEqual([
      "ada",
      "bob",
      "cy",
    ]);
    expect(await board.rank("cy")).toBe(3);
    expect(await board.rank("nobody")).toBeNull();
    expect((await board.around("bob", 1)).map((m) => [m.member, m.rank])).toEqual([
      ["ada", 1],
      ["bob", 2],
      ["cy", 3],
    ]);
    clock += 86_400_000;
    await board.increment("cy", 100);
    expect((await board.top(1, { period: "daily" }))[0]).toEqual({
      member: "cy",
      score: 100,
      rank: 1,
    });
    expect(
      (await board.top(3, { period: "daily", at: clock - 86_400_000 })).map((m) => m.member),
    ).toEqual(["ada", "bob", "cy"]);
    expect(await board.top(3, { lastDays: 2 })).toEqual([
      { member: "cy", score: 120, rank: 1 },
      { member: "ada", score: 35, rank: 2 },
      { member: "bob", score: 30, rank: 3 },
    ]);
    expect(await board.score("cy", { period: "weekly" })).toBe(120);
    await board.remove("cy");
    expect(await board.rank("cy")).toBeNull();
    expect(await board.rank("cy", { period: "daily" })).toBeNull();
  });

  it("feeds: push keeps the newest N in one round trip; recent returns newest first", async () => {
    const feed = createFeed({ redis, app: newApp("feed") });
    const requests = countRequests(redis);
    await feed.push(["user", 1], { type: "tip", amount: 1, at: new Date(0) }, { keep: 3 });
    expect(requests.count).toBe(1);
    for (let i = 2; i <= 5; i += 1)
      await feed.push(["user", 1], { type: "tip", amount: i }, { keep: 3 });
    const items = await feed.recent<{ amount: number }>(["user", 1], 10);
    expect(items.map((item) => item.amount)).toEqual([5, 4, 3]);
    expect(await feed.recent(["user", 2])).toEqual([]);
  });

  it("domain helpers: user data and config with the config prefixes and TTLs", async () => {
    const app = newApp("domain");
    const domain = createDomainCache({ redis, app, metrics: false });
    await domain.cacheUserData(42, { name: "Ada" });
    expect(await redis.exists(cacheEntryKey(app, "user", "42"))).toBe(1);
    expect(await domain.getCachedUserData(42, z.object({ name: z.string() }))).toEqual({
      name: "Ada",
    });
    expect(await domain.users.ttl("42")).toBeGreaterThan(290);
    await domain.users.set(["42", "prefs"], { dark: true }, { tags: ["user:42"] });
    await domain.invalidateUserCache(42);
    expect(await domain.getCachedUserData(42)).toBeUndefined();
    expect(await domain.users.get(["42", "prefs"])).toBeUndefined();
    await domain.cacheConfig("features", { beta: true });
    expect(await domain.getCachedConfig("features")).toEqual({ beta: true });
    expect(await domain.configs.ttl("features")).toBeGreaterThan(3500);
  });
});
