import { describe, expect, it } from "vitest";
import { buildKey, hashTag } from "@hotpath/config";
import type { HotpathRedis } from "@hotpath/redis";
import { TRANSPORTS } from "@hotpath/testing";
import { createLeaderboard, createLocks, createSessionStore } from "../src/index.ts";
import { countRequests, useTestApps } from "./helpers.ts";

describe.each(TRANSPORTS)(
  "sessions, fences and merged boards keep Redis tidy (%s)",
  (transport) => {
    let redis: HotpathRedis;
    const { newApp } = useTestApps(transport, (client) => (redis = client));

    it("a session is written with its TTL in one atomic script call", async () => {
      const app = newApp("sess-atomic");
      const sessions = createSessionStore<{ userId: number }>({ redis, app, ttl: 600 });
      // On a Redis that never ran the script, EVALSHA answers NOSCRIPT and EVAL follows (two
      // requests): load it with a first session, so the count does not depend on test order.
      await sessions.createSession({ userId: 0 });
      const requests = countRequests(redis);
      const id = await sessions.createSession({ userId: 7 });
      expect(requests.count).toBe(1);
      const body = requests.bodies[0] as unknown[];
      // One EVALSHA/EVAL (atomic), not a pipeline of HSET then PEXPIRE.
      expect(typeof body[0] === "string" && /^EVAL/i.test(body[0])).toBe(true);
      const pttl = await redis.pttl(buildKey(app, "session", id));
      expect(pttl).toBeGreaterThan(590_000);
      expect(await sessions.getSession(id)).toEqual({ userId: 7 });
    });

    it("fence counters get a TTL and keep increasing after one expired", async () => {
      const app = newApp("fence-ttl");
      const locks = createLocks({ redis, app, metrics: false });
      const fence = buildKey(app, "lock", "f", hashTag("job"));
      const first = await locks.acquireLock("job");
      await first.release();
      expect(await redis.pttl(fence)).toBeGreaterThan(0);
      const second = await locks.acquireLock("job");
      await second.release();
      expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
      await redis.del(fence); // as if it had expired
      const third = await locks.acquireLock("job");
      await third.release();
      expect(third.fencingToken).toBeGreaterThan(second.fencingToken);
    });

    it("lastDays reads share one merged key instead of creating one per call", async () => {
      const app = newApp("lb-merge");
      const board = createLeaderboard({ redis, app, name: "tips", periods: ["daily"] });
      await board.add("ada", 3);
      for (let i = 0; i < 5; i += 1)
        expect((await board.top(1, { lastDays: 7 }))[0]?.member).toBe("ada");
      await board.rank("ada", { lastDays: 7 });
      await board.score("ada", { lastDays: 7 });
      const merged: string[] = [];
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, {
          match: `${buildKey(app, "lb", hashTag("tips"), "merged")}:*`,
          count: 500,
        });
        cursor = String(next);
        merged.push(...keys);
      } while (cursor !== "0");
      expect(merged).toHaveLength(1);
    });
  },
);
