import { hourBucket, keySlot, metricsTopKey } from "@hotpath/config";
import { startGateway } from "@hotpath/gateway";
import type { HotpathRedis } from "@hotpath/redis";
import { uniquePrefix, useRedisCluster } from "@hotpath/testing";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  RATE_LIMIT_METRICS_GROUP,
  createRateLimiter,
  keyIdentifier,
  policyKeys,
  resolvePolicy,
  type CreateRateLimiterOptions,
} from "../src/index.ts";
import { defineAccuracyTests } from "./accuracy.ts";
import { midDay } from "./processes.ts";

// One cluster (3 masters + 3 replicas) and one gateway in front of it for the whole file.
const {
  target: targetOf,
  client: clusterClient,
  mastersOf,
} = useRedisCluster({
  startGateway,
  keySlot,
});

const POLICIES = {
  fixed: { limit: 2, window: "1d", algorithm: "fixedWindow" },
  sliding: { limit: 2, window: "1d", algorithm: "slidingWindow" },
  bucket: { limit: 2, window: "1d", algorithm: "tokenBucket" },
  log: { limit: 2, window: "1d", algorithm: "slidingWindowLog" },
  daily: { limit: 1000, window: "1d", algorithm: "fixedWindow" },
} as const satisfies CreateRateLimiterOptions["policies"];

describe.each(["tcp", "rest"] as const)("rate limiting on a Redis Cluster over %s", (transport) => {
  describe("accuracy: 4 processes x 250 concurrent checks of one identifier (children's clock at noon)", () => {
    defineAccuracyTests(
      () => targetOf(transport),
      () => uniquePrefix(`rlc-acc-${transport}`),
    );
  });

  describe("keys, controls and analytics (injected clock: Date is faked at noon, timers stay real)", () => {
    // Upstream's single-policy scripts read Date.now() themselves, so Date is the clock here.
    let redis: HotpathRedis;
    const make = (prefix: string, options: Partial<CreateRateLimiterOptions> = {}) =>
      createRateLimiter({
        redis,
        prefix,
        policies: POLICIES,
        analytics: false,
        ephemeralCache: false,
        ...options,
      });

    beforeAll(() => {
      redis = clusterClient(transport);
    });
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ["Date"], now: midDay() });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("identifiers spread over every master; each one's keys of every policy share its slot", async () => {
      const prefix = uniquePrefix(`rlc-keys-${transport}`);
      const limiter = make(prefix);
      const ids = Array.from({ length: 60 }, (_, i) => `user-${i}`);
      const keysOf = (id: string, policy: keyof typeof POLICIES) =>
        policyKeys(prefix, resolvePolicy(policy, POLICIES[policy]), keyIdentifier(id), Date.now());
      for (const id of ids) {
        for (const policy of ["fixed", "sliding", "bucket", "log"] as const)
          expect((await limiter.limit(id, { policy })).success).toBe(true);
        expect((await limiter.limit(id, { policy: ["bucket", "daily"] })).success).toBe(true);
        const slots = new Set(
          (["fixed", "sliding", "bucket", "log", "daily"] as const).flatMap((policy) =>
            keysOf(id, policy).map(keySlot),
          ),
        );
        expect(slots.size).toBe(1);
      }
      const fixedKeys = ids.map((id) => keysOf(id, "fixed")[0] as string);
      const masters = await mastersOf(fixedKeys);
      expect(masters.has(-1)).toBe(false);
      expect(masters.size).toBe(3);
      // The keys are where the limiter says: each identifier counted one fixed-window request.
      for (const key of fixedKeys) expect(Number(await redis.get(key))).toBe(1);
      const quotas = await limiter.getRemaining("user-1", { policy: ["fixed", "log", "bucket"] });
      expect(quotas.map((quota) => quota.remaining)).toEqual([1, 1, 0]);
      await limiter.reset("user-1");
      expect(await redis.exists(keysOf("user-1", "fixed")[0] as string)).toBe(0);
      expect((await limiter.getRemaining("user-1", { policy: "log" }))[0]?.remaining).toBe(2);
    });

    it("the limit holds per identifier on every master: the third request of each is refused", async () => {
      const limiter = make(uniquePrefix(`rlc-spread-${transport}`));
      const ids = Array.from({ length: 30 }, (_, i) => `spread-${i}`);
      for (const policy of ["fixed", "sliding", "bucket", "log"]) {
        const decisions = await Promise.all(
          ids.flatMap((id) => [0, 1, 2].map(() => limiter.limit(id, { policy }))),
        );
        expect(decisions.filter((d) => d.success)).toHaveLength(2 * ids.length);
        expect(decisions.filter((d) => !d.success).every((d) => d.reason === "limited")).toBe(true);
      }
    });

    it("deny list and overrides written by one instance are read by another", async () => {
      const prefix = uniquePrefix(`rlc-ctl-${transport}`);
      const admin = make(prefix, { controls: { refreshMs: 0 } });
      const other = make(prefix, { redis: clusterClient(transport), controls: { refreshMs: 0 } });
      await admin.denyList.add({ identifier: "mallory" });
      await admin.denyList.add({ ip: "203.0.113.7" });
      await admin.overrides.set("partner", { multiplier: 3 });
      await admin.overrides.set("tight", { limits: { fixed: 1 } });
      // The other instance loads the controls on its first call (refreshMs 0: then on every call).
      expect(await other.limit("mallory", { policy: "fixed" })).toMatchObject({
        success: false,
        reason: "denyList",
      });
      expect(await other.limit("someone", { policy: "fixed", ip: "203.0.113.7" })).toMatchObject({
        success: false,
        reason: "denyList",
      });
      const partner = await Promise.all(
        Array.from({ length: 8 }, () => other.limit("partner", { policy: "fixed" })),
      );
      expect(partner.filter((d) => d.success)).toHaveLength(6);
      const tight = [
        await other.limit("tight", { policy: "fixed" }),
        await other.limit("tight", { policy: "fixed" }),
      ];
      expect(tight.map((d) => d.success)).toEqual([true, false]);
      expect(await other.denyList.list()).toEqual(["id:mallory", "ip:203.0.113.7"]);
      expect(Object.keys(await other.overrides.list()).sort()).toEqual(["partner", "tight"]);
      await admin.denyList.remove({ identifier: "mallory" });
      // The re-read runs in the background of a call: a later call sees the removal.
      await expect
        .poll(async () => (await other.limit("mallory", { policy: "fixed" })).success)
        .toBe(true);
    });

    it("analytics: flushed counts and top identifiers add up across instances and hours", async () => {
      const start = Date.now();
      const prefix = uniquePrefix(`rlc-metrics-${transport}`);
      const analytics = { flushIntervalMs: 3_600_000 };
      const a = make(prefix, { analytics });
      const b = make(prefix, { analytics, redis: clusterClient(transport) });
      // Three hours, one ranking key each, in different slots: no script or ZUNION may mix them.
      const hours = [0, 1, 2].map((h) => start + h * 3_600_000);
      const topKeys = hours.map((at) =>
        metricsTopKey(prefix, RATE_LIMIT_METRICS_GROUP, "blocked", hourBucket(at)),
      );
      expect(new Set(topKeys.map(keySlot)).size).toBeGreaterThan(1);
      for (const at of hours) {
        vi.setSystemTime(at);
        for (let i = 0; i < 3; i += 1) await a.limit(`alice-${at}`, { policy: "fixed" });
        for (let i = 0; i < 4; i += 1) await b.limit("bob", { policy: "log" });
        await a.limit("carol", { policy: "bucket" });
      }
      await Promise.all([a.metrics.flush(), b.metrics.flush()]);
      const usage = await a.metrics.getUsage({ since: start });
      expect(usage.fixed).toEqual({ allowed: 6, blocked: 3, fallback: 0 });
      // bob: 2 allowed in the first hour, then the day's log is full.
      expect(usage.log).toEqual({ allowed: 2, blocked: 10, fallback: 0 });
      expect(usage.bucket).toEqual({ allowed: 2, blocked: 1, fallback: 0 });
      const series = await b.metrics.getUsageOverTime({ since: start });
      expect(series.reduce((sum, point) => sum + (point.policies.log?.blocked ?? 0), 0)).toBe(10);
      expect(await b.metrics.topIdentifiers({ kind: "blocked", hours: 3 })).toEqual([
        { identifier: "bob", count: 10 },
        { identifier: `alice-${hours[0]}`, count: 1 },
        { identifier: `alice-${hours[1]}`, count: 1 },
        { identifier: `alice-${hours[2]}`, count: 1 },
        { identifier: "carol", count: 1 },
      ]);
      expect(await a.metrics.topIdentifiers({ kind: "allowed", hours: 3, limit: 2 })).toEqual([
        { identifier: `alice-${hours[0]}`, count: 2 },
        { identifier: `alice-${hours[1]}`, count: 2 },
      ]);
      expect(await a.metrics.topIdentifiers({ kind: "blocked", hours: 1 })).toEqual([
        { identifier: "bob", count: 4 },
        { identifier: `alice-${hours[2]}`, count: 1 },
        { identifier: "carol", count: 1 },
      ]);
    });
  });
});
