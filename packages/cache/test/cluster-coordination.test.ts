import { buildKey, hashTag, keySlot } from "@hotpath/config";
import { startGateway } from "@hotpath/gateway";
import type { HotpathRedis } from "@hotpath/redis";
import { uniquePrefix, useRedisCluster } from "@hotpath/testing";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createFeed,
  createIdempotencyStore,
  createLeaderboard,
  createLocks,
  createSessionStore,
  fingerprintPayload,
  IdempotencyInFlightError,
  IdempotencyMismatchError,
  readIdempotencyMetrics,
  readLockMetrics,
  type IdempotentResult,
} from "../src/index.ts";
import { countRequests, eventually, gate, sleep, renewalsSeen } from "./helpers.ts";

// One cluster (3 masters + 3 replicas) and one gateway in front of it for the whole file.
const { client: clusterClient, mastersOf } = useRedisCluster({ startGateway, keySlot });

const DAY_MS = 86_400_000;

describe.each(["tcp", "rest"] as const)("coordination on a Redis Cluster over %s", (transport) => {
  // Two clients, as two API instances would hold (two ioredis Clusters, or two REST clients).
  let one: HotpathRedis;
  let two: HotpathRedis;
  beforeAll(() => {
    one = clusterClient(transport);
    two = clusterClient(transport);
  });
  const newApp = (label: string) => uniquePrefix(`${label}-${transport}`);
  /** One instance of a primitive on each client. */
  const pair = <T>(make: (redis: HotpathRedis) => T): [T, T] => [make(one), make(two)];

  describe("idempotency", () => {
    it("50 concurrent duplicates from 2 instances: the handler runs once, all 50 get its answer", async () => {
      const app = newApp("idem");
      const stores = pair((redis) =>
        createIdempotencyStore({ redis, app, name: "tips", metrics: false, timeoutMs: 5000 }),
      );
      const fingerprint = await fingerprintPayload({ amount: 5 });
      let runs = 0;
      let answered = 0;
      const release = gate();
      const completed = gate();
      const call = (i: number) =>
        stores[i % 2 ? 1 : 0].runIdempotent(
          "key-1",
          fingerprint,
          async () => {
            runs += 1;
            // Held until the 49 others have had their first answer: they all meet it in flight.
            await release.promise;
            return { tipId: 7, run: runs };
          },
          { principal: "user-1" },
        );
      const firstAnswers = Array.from({ length: 50 }, (_, i) =>
        call(i)
          .then(
            (result) => {
              completed.open();
              return { result, conflict: false };
            },
            (error: unknown) => {
              expect(error).toBeInstanceOf(IdempotencyInFlightError);
              expect(error).toMatchObject({ status: 409 });
              return { result: undefined, conflict: true };
            },
          )
          .finally(() => {
            answered += 1;
            if (answered === 49) release.open();
          }),
      );
      // A caller told 409 retries after the first run completed (as Retry-After asks): a replay.
      const finals = await Promise.all(
        firstAnswers.map(async (first, i): Promise<IdempotentResult<unknown>> => {
          const answer = await first;
          if (answer.result) return answer.result;
          await completed.promise;
          return call(i);
        }),
      );
      expect(runs).toBe(1);
      expect((await Promise.all(firstAnswers)).filter((a) => a.conflict)).toHaveLength(49);
      expect(finals.map((final) => final.value)).toEqual(
        Array.from({ length: 50 }, () => ({ tipId: 7, run: 1 })),
      );
      expect(finals.filter((final) => !final.replayed)).toHaveLength(1);
      await expect(
        stores[1].runIdempotent("key-1", "another payload", () => 0, { principal: "user-1" }),
      ).rejects.toBeInstanceOf(IdempotencyMismatchError);
    });

    it("a long handler keeps its record's lease: the other instance still gets 409 after the first lease", async () => {
      const app = newApp("idem-lease");
      const [a, b] = pair((redis) =>
        createIdempotencyStore({ redis, app, leaseTtl: "1s", metrics: false, timeoutMs: 5000 }),
      );
      const record = buildKey(app, "idem", "default", "u", "slow");
      const done = a.runIdempotent(
        "slow",
        "fp",
        async (signal) => {
          // Three renewals seen (the record's TTL went back up): the first lease is long over.
          await renewalsSeen(two, record);
          await expect(
            b.runIdempotent("slow", "fp", () => "twice", { principal: "u" }),
          ).rejects.toBeInstanceOf(IdempotencyInFlightError);
          return signal.aborted ? "aborted" : "once";
        },
        { principal: "u" },
      );
      expect(await done).toEqual({ value: "once", replayed: false });
      expect(await b.runIdempotent("slow", "fp", () => "twice", { principal: "u" })).toEqual({
        value: "once",
        replayed: true,
      });
    });

    it("records of many keys spread over every master; each key runs once; metrics add up", async () => {
      const app = newApp("idem-spread");
      const [a, b] = pair((redis) =>
        createIdempotencyStore({ redis, app, name: "orders", timeoutMs: 5000 }),
      );
      const keys = Array.from({ length: 30 }, (_, i) => `order-${i}`);
      const runs = new Map<string, number>();
      const once = (key: string) => () => {
        runs.set(key, (runs.get(key) ?? 0) + 1);
        return key;
      };
      for (const key of keys) await a.runIdempotent(key, "fp", once(key), { principal: "p" });
      const replays = await Promise.all(
        keys.map((key) => b.runIdempotent(key, "fp", once(key), { principal: "p" })),
      );
      expect(replays.every((r, i) => r.replayed && r.value === keys[i])).toBe(true);
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      const records = keys.map((key) => buildKey(app, "idem", "orders", "p", key));
      expect(await one.exists(records[0] as string)).toBe(1);
      expect((await mastersOf(records)).size).toBe(3);
      await Promise.all([a.flushMetrics(), b.flushMetrics()]);
      const rows = await readIdempotencyMetrics(one, { app, sinceMs: Date.now() - 120_000 });
      const total = (name: "idempotency_first_total" | "idempotency_replays_total") =>
        rows.reduce((n, row) => n + row.counters[name], 0);
      expect([total("idempotency_first_total"), total("idempotency_replays_total")]).toEqual([
        30, 30,
      ]);
      await Promise.all([a.close(), b.close()]);
    });

    it("withIdempotency: the second instance replays the stored response", async () => {
      const app = newApp("idem-http");
      const [a, b] = pair((redis) =>
        createIdempotencyStore({ redis, app, metrics: false, timeoutMs: 5000 }),
      );
      const request = () =>
        new Request("http://api.test/tips", {
          method: "POST",
          headers: { "idempotency-key": "http-1", "content-type": "application/json" },
          body: JSON.stringify({ amount: 3 }),
        });
      let runs = 0;
      const handler = () => {
        runs += 1;
        return Response.json({ tipId: 11 }, { status: 201 });
      };
      const first = await a.withIdempotency(request(), handler, { principal: "u" });
      const second = await b.withIdempotency(request(), handler, { principal: "u" });
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(await second.json()).toEqual({ tipId: 11 });
      expect(second.headers.get("idempotent-replayed")).toBe("true");
      expect(runs).toBe(1);
    });
  });

  describe("locks", () => {
    it("acquire, extend, release; fencing tokens strictly increase across two clients", async () => {
      const app = newApp("locks");
      const [a, b] = pair((redis) => createLocks({ redis, app, timeoutMs: 5000, group: "jobs" }));
      const tokens: number[] = [];
      for (let round = 0; round < 10; round += 1) {
        const locks = round % 2 === 0 ? a : b;
        const lock = await locks.acquireLock(["job", 1], { ttl: 5 });
        tokens.push(lock.fencingToken);
        expect(await lock.extend(10)).toBe(true);
        const pttl = await one.pttl(lock.key);
        expect(pttl).toBeGreaterThan(5000);
        expect(await lock.release()).toBe(true);
        expect(await lock.release()).toBe(false);
      }
      for (let i = 1; i < tokens.length; i += 1)
        expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
      // After the lease expired (not released), the other client's grant still carries a higher token.
      const stale = await a.acquireLock(["job", 1], { ttl: "150ms" });
      await eventually(async () => (await two.exists(stale.key)) === 0);
      const fresh = await b.acquireLock(["job", 1], { ttl: 5 });
      expect(fresh.fencingToken).toBeGreaterThan(stale.fencingToken);
      expect(await stale.extend(5)).toBe(false);
      expect(await stale.release()).toBe(false);
      expect(await fresh.release()).toBe(true);
      // The lock and its fence counter share one slot (the acquire script touches both).
      const tag = hashTag("job", 1);
      expect(keySlot(buildKey(app, "lock", "f", tag))).toBe(keySlot(fresh.key));
      await Promise.all([a.flushMetrics(), b.flushMetrics()]);
      const rows = await readLockMetrics(one, { app, sinceMs: Date.now() - 120_000 });
      const acquired = rows.reduce((n, row) => n + row.counters.lock_acquired_total, 0);
      expect(acquired).toBe(12);
      await Promise.all([a.close(), b.close()]);
    });

    it("a second acquirer: try → null, acquire → LOCK_NOT_ACQUIRED (409), wait → granted on release", async () => {
      const app = newApp("locks-wait");
      const [a, b] = pair((redis) => createLocks({ redis, app, metrics: false, timeoutMs: 5000 }));
      const held = await a.acquireLock("report", { ttl: 10 });
      expect(await b.tryAcquireLock("report")).toBeNull();
      await expect(b.acquireLock("report")).rejects.toMatchObject({
        code: "LOCK_NOT_ACQUIRED",
        status: 409,
      });
      await expect(
        b.acquireLock("report", { wait: "200ms", retryDelayMs: 20 }),
      ).rejects.toMatchObject({ code: "LOCK_NOT_ACQUIRED" });
      // A waiting acquirer on a third client: released once it has been refused at least once
      // (3 requests: at most 2 per attempt, a script load included), then it gets the lock.
      const third = clusterClient(transport);
      const sent = countRequests(third);
      const waiting = createLocks({
        redis: third,
        app,
        metrics: false,
        timeoutMs: 5000,
      }).acquireLock("report", { wait: 10, retryDelayMs: 20 });
      await eventually(() => sent.count >= 3);
      expect(await held.release()).toBe(true);
      const granted = await waiting;
      expect(granted.fencingToken).toBeGreaterThan(held.fencingToken);
      expect(await two.get(granted.key)).toBe(granted.token);
      expect(await granted.release()).toBe(true);
    });

    it("withLock renews the lease on the cluster; the other client cannot take it meanwhile", async () => {
      const app = newApp("locks-renew");
      const [a, b] = pair((redis) => createLocks({ redis, app, metrics: false, timeoutMs: 5000 }));
      const result = await a.withLock(
        "long",
        async (signal, lock) => {
          await renewalsSeen(two, lock.key);
          expect(await b.tryAcquireLock("long")).toBeNull();
          return signal.aborted ? "aborted" : "ok";
        },
        { ttl: "1s" },
      );
      expect(result).toBe("ok");
      const after = await b.acquireLock("long");
      expect(await after.release()).toBe(true);
    });

    it("withLock across two clients: never two holders; lock names spread over every master", async () => {
      const app = newApp("locks-with");
      const [a, b] = pair((redis) => createLocks({ redis, app, metrics: false, timeoutMs: 5000 }));
      let holders = 0;
      let maxHolders = 0;
      const tokens: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, (_, worker) =>
          (worker % 2 ? a : b).withLock(
            "shared",
            async (_signal, lock) => {
              holders += 1;
              maxHolders = Math.max(maxHolders, holders);
              tokens.push(lock.fencingToken);
              await sleep(5);
              holders -= 1;
            },
            { ttl: 5, wait: 20, retryDelayMs: 5 },
          ),
        ),
      );
      expect(maxHolders).toBe(1);
      expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
      expect(new Set(tokens).size).toBe(8);
      const names = Array.from({ length: 30 }, (_, i) => ["res", i] as const);
      const locks = await Promise.all(names.map((name) => a.acquireLock(name, { ttl: 5 })));
      expect((await mastersOf(locks.map((lock) => lock.key))).size).toBe(3);
      expect(await Promise.all(locks.map((lock) => lock.release()))).toEqual(names.map(() => true));
    });
  });

  it("sessions: created on one instance, read, updated and destroyed on the other", async () => {
    const app = newApp("sessions");
    const [a, b] = pair((redis) =>
      createSessionStore<{ userId: number; role?: string }>({
        redis,
        app,
        ttl: 60,
        timeoutMs: 5000,
      }),
    );
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, i) => a.createSession({ userId: i })),
    );
    expect((await mastersOf(ids.map((id) => buildKey(app, "session", id)))).size).toBe(3);
    const id = ids[3] as string;
    expect(await b.getSession(id)).toEqual({ userId: 3 });
    expect(await b.updateSession(id, { role: "admin" })).toBe(true);
    expect(await a.getSession(id)).toEqual({ userId: 3, role: "admin" });
    const pttl = await one.pttl(buildKey(app, "session", id));
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await b.destroySession(id)).toBe(true);
    expect(await a.getSession(id)).toBeNull();
    expect(await a.updateSession(id, { role: "x" })).toBe(false);
  });

  it("leaderboards: increments from two instances; top over the last 7 days merges the day sets", async () => {
    const app = newApp("lb");
    // Injected clock: noon UTC on a fixed day, moved day by day (no dependence on the wall clock).
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS / 2;
    let now = today;
    const [a, b] = pair((redis) =>
      createLeaderboard({
        redis,
        app,
        name: "tips",
        periods: ["daily", "weekly"],
        timeoutMs: 5000,
        now: () => now,
      }),
    );
    // Eight days back: outside the last 7 days (it counts all-time only).
    now = today - 8 * DAY_MS;
    await a.increment("old-timer", 1000);
    for (let day = 6; day >= 0; day -= 1) {
      now = today - day * DAY_MS;
      await Promise.all([
        a.increment("ada", 10),
        b.increment("bob", 7),
        (day % 2 ? a : b).increment("cy", 12),
      ]);
    }
    now = today;
    expect(await b.top(3, { lastDays: 7 })).toEqual([
      { member: "cy", score: 84, rank: 1 },
      { member: "ada", score: 70, rank: 2 },
      { member: "bob", score: 49, rank: 3 },
    ]);
    expect((await a.top(1)).map((m) => m.member)).toEqual(["old-timer"]);
    expect(await a.rank("old-timer", { lastDays: 7 })).toBeNull();
    expect(await b.score("ada", { period: "daily" })).toBe(10);
    expect((await a.around("bob", 1, { lastDays: 7 })).map((m) => m.member)).toEqual([
      "ada",
      "bob",
    ]);
    await b.remove("ada");
    expect(await a.score("ada")).toBeNull();
    expect(await a.score("ada", { period: "daily" })).toBeNull();
    // Boards of different names are on different masters; each board's sets share one slot.
    const boards = Array.from({ length: 30 }, (_, i) =>
      buildKey(app, "lb", hashTag(`b${i}`), "all"),
    );
    expect((await mastersOf(boards)).size).toBe(3);
  });

  it("feeds: pushes from two instances keep the newest N in order, on every master", async () => {
    const app = newApp("feed");
    const [a, b] = pair((redis) =>
      createFeed({ redis, app, keep: 5, ttlSeconds: 60, timeoutMs: 5000 }),
    );
    for (let n = 1; n <= 8; n += 1) await (n % 2 ? a : b).push(["user", 1], { n });
    expect(await b.recent(["user", 1], 10)).toEqual([8, 7, 6, 5, 4].map((n) => ({ n })));
    expect(await one.ttl(buildKey(app, "feed", "user", 1))).toBeGreaterThan(0);
    const feeds = Array.from({ length: 30 }, (_, i) => ["user", i + 100] as const);
    await Promise.all(feeds.map((feed, i) => (i % 2 ? a : b).push(feed, { first: i })));
    const firsts = await Promise.all(feeds.map((feed) => a.recent(feed, 1)));
    expect(firsts).toEqual(feeds.map((_, i) => [{ first: i }]));
    expect((await mastersOf(feeds.map((feed) => buildKey(app, "feed", ...feed)))).size).toBe(3);
  });
});
