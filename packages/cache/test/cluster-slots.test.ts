import { describe, expect, it } from "vitest";
import type { HotpathRedis } from "@hotpath/redis";
import { TRANSPORTS } from "@hotpath/testing";
import {
  createFeed,
  createIdempotencyStore,
  createLeaderboard,
  createLocks,
  createSessionStore,
} from "../src/index.ts";
import { createWire, defineScript, toWireError } from "../src/wire.ts";
import { useTestApps } from "./helpers.ts";

// The client refuses, before sending, any script, MULTI or multi-key command whose keys span
// cluster slots (what Redis Cluster answers with CROSSSLOT): these run unchanged on a cluster.
describe.each(TRANSPORTS)("cluster-safe keys over %s (guardSlots)", (transport) => {
  let redis: HotpathRedis;
  const { newApp } = useTestApps(transport, (client) => (redis = client), { guardSlots: true });

  it("locks: the lock and its fence counter share one slot (acquire, extend, release)", async () => {
    const locks = createLocks({ redis, app: newApp("locks"), metrics: false });
    const first = await locks.acquireLock(["job", 7]);
    expect(await first.extend(5)).toBe(true);
    await first.release();
    const second = await locks.acquireLock(["job", 7]);
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
    await second.release();
  });

  it("leaderboards: a board's sets share one slot (the merge of the last days unions them)", async () => {
    const board = createLeaderboard({
      redis,
      app: newApp("lb"),
      name: "tips",
      periods: ["daily", "weekly"],
    });
    await board.add("ada", 3);
    await board.add("bob", 5);
    expect((await board.top(2, { lastDays: 7 })).map((m) => m.member)).toEqual(["bob", "ada"]);
    expect(await board.rank("ada", { period: "weekly" })).toBe(2);
  });

  it("idempotency, sessions and feeds: one key per script or command", async () => {
    const app = newApp("coord");
    const store = createIdempotencyStore({ redis, app, metrics: false });
    let runs = 0;
    const run = () => store.runIdempotent("k1", "fp", () => (runs += 1), { principal: "u" });
    await run();
    await run();
    expect(runs).toBe(1);
    const sessions = createSessionStore({ redis, app, ttl: 60 });
    const id = await sessions.createSession({ userId: 1 });
    expect(await sessions.updateSession(id, { userId: 2 })).toBe(true);
    expect(await sessions.getSession(id)).toEqual({ userId: 2 });
    const feed = createFeed({ redis, app, keep: 3 });
    for (const n of [1, 2, 3, 4]) await feed.push(["user", 1], { n });
    expect((await feed.recent(["user", 1], 10)).length).toBe(3);
  });
});

describe("a cross-slot call is a command error, never taken for an outage", () => {
  let redis: HotpathRedis;
  const { newApp } = useTestApps("tcp", (client) => (redis = client), { guardSlots: true });

  it("the cache surfaces it as RedisCommandError (not a fall-back to the loader)", async () => {
    const app = newApp("xslot");
    const script = defineScript("return redis.call('MGET', KEYS[1], KEYS[2])", "test.xslot");
    const wire = createWire(redis, 1000);
    const error = await wire
      .script(script, [`${app}:{a}`, `${app}:{b}`], [])
      .catch((e: unknown) => e);
    expect(toWireError(error)).toMatchObject({ code: "CACHE_REDIS_ERROR" });
  });
});
