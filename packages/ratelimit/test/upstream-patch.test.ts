import type { HotpathRedis } from "@hotpath/redis";
import { TRANSPORTS, deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import { Ratelimit } from "@upstash/ratelimit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countingRedis } from "./helpers.ts";

const PATCH = "patches/@upstash__ratelimit@2.2.0.patch";

// `@upstash/ratelimit` 2.2.0's cached-fixed-window script compares INCRBY's number with an ARGV
// string, so it never sets an expiry: the patch compares numbers (and updates the script's sha1).
// These tests fail with a clear message if the patch is not applied (e.g. after an upgrade).
describe.each(TRANSPORTS)("the patched @upstash/ratelimit over %s", (transport) => {
  let redis: HotpathRedis;
  const prefix = uniquePrefix(`rl-patch-${transport}`);

  beforeAll(() => {
    redis = openTestRedis(transport);
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.close();
  });

  it("cachedFixedWindow gives its window key a TTL", async () => {
    const limiter = new Ratelimit({
      redis,
      prefix,
      limiter: Ratelimit.cachedFixedWindow(5, "1 m"),
      ephemeralCache: new Map(),
      enableProtection: false,
      analytics: false,
    });
    const first = await limiter.limit("u");
    await first.pending;
    const [key] = await redis.keys(`${prefix}:u:*`);
    expect(key, "the window key was written").toBeDefined();
    const ttl = await redis.pttl(key ?? "");
    expect(
      ttl,
      `the window key has no TTL: is ${PATCH} applied (pnpm install), and does it still fit the installed @upstash/ratelimit?`,
    ).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("cachedFixedWindow's script is found by its sha1 (no NOSCRIPT round trip after the first call)", async () => {
    const limiter = new Ratelimit({
      redis,
      prefix: `${prefix}:sha`,
      limiter: Ratelimit.cachedFixedWindow(5, "1 m"),
      ephemeralCache: new Map(),
      analytics: false,
    });
    await (
      await limiter.limit("warm")
    ).pending;
    const counting = countingRedis(redis);
    const counted = new Ratelimit({
      redis: counting.redis,
      prefix: `${prefix}:sha`,
      limiter: Ratelimit.cachedFixedWindow(5, "1 m"),
      ephemeralCache: new Map(),
      analytics: false,
    });
    await (
      await counted.limit("other")
    ).pending;
    expect(
      Object.fromEntries(counting.calls),
      `the patched script's hash in ${PATCH} must be the sha1 of its text`,
    ).toEqual({
      evalsha: 1,
    });
  });
});
