import { TRANSPORTS, deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import { Analytics, Ratelimit } from "@upstash/ratelimit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HotpathRedis, RedisTransport } from "@hotpath/redis";
import { publishedRatelimitScripts } from "./ratelimit-scripts.ts";

const SCRIPTS = publishedRatelimitScripts();

type LimiterName = "fixedWindow" | "slidingWindow" | "tokenBucket" | "cachedFixedWindow";
const LIMITERS: readonly LimiterName[] = [
  "fixedWindow",
  "slidingWindow",
  "tokenBucket",
  "cachedFixedWindow",
];

// One hour windows: the 4 calls of a test never straddle a window boundary in practice.
function limiterOf(name: LimiterName) {
  switch (name) {
    case "fixedWindow":
      return Ratelimit.fixedWindow(3, "1 h");
    case "slidingWindow":
      return Ratelimit.slidingWindow(3, "1 h");
    case "tokenBucket":
      return Ratelimit.tokenBucket(1, "1 h", 3);
    case "cachedFixedWindow":
      return Ratelimit.cachedFixedWindow(3, "1 h");
  }
}

const clients = new Map<RedisTransport, HotpathRedis>();
const prefixes: string[] = [];

function client(transport: RedisTransport): HotpathRedis {
  const redis = clients.get(transport);
  if (!redis) throw new Error(`no ${transport} client`);
  return redis;
}

function prefixFor(label: string): string {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  return prefix;
}

beforeAll(() => {
  for (const transport of TRANSPORTS) clients.set(transport, openTestRedis(transport));
});

afterAll(async () => {
  const tcp = clients.get("tcp");
  if (tcp) for (const prefix of prefixes) await deletePrefix(tcp, prefix);
  await Promise.all([...clients.values()].map((redis) => redis.close()));
});

/** Runs one limiter scenario and returns what the SDK reported, minus timestamps. */
async function limitScenario(transport: RedisTransport, name: LimiterName) {
  const ratelimit = new Ratelimit({
    redis: client(transport),
    limiter: limiterOf(name),
    prefix: prefixFor(`rl-${name}`),
    // fixedWindow also gets the SDK's ephemeral block cache: a blocked caller is then refused locally.
    ephemeralCache: name === "cachedFixedWindow" || name === "fixedWindow" ? new Map() : false,
  });
  const calls: {
    success: boolean;
    remaining: number;
    limit: number;
    reason: unknown;
    resetInFuture: boolean;
  }[] = [];
  for (let i = 0; i < 5; i += 1) {
    const response = await ratelimit.limit("user-1");
    await response.pending;
    calls.push({
      success: response.success,
      remaining: response.remaining,
      limit: response.limit,
      reason: response.reason,
      resetInFuture: response.reset > Date.now(),
    });
  }
  const other = await ratelimit.limit("user-2");
  await other.pending;
  const remainingBlocked = await ratelimit.getRemaining("user-1");
  await ratelimit.resetUsedTokens("user-1");
  const remainingAfterReset = await ratelimit.getRemaining("user-1");
  const afterReset = await ratelimit.limit("user-1");
  await afterReset.pending;
  return {
    successes: calls.map((c) => c.success),
    remaining: calls.map((c) => c.remaining),
    limits: calls.map((c) => c.limit),
    reasons: calls.map((c) => c.reason),
    resetInFuture: calls.every((c) => c.resetInFuture),
    otherIdentifier: other.success,
    remainingBlocked: remainingBlocked.remaining,
    remainingAfterReset: remainingAfterReset.remaining,
    afterReset: afterReset.success,
  };
}

const EXPECTED: Record<LimiterName, Awaited<ReturnType<typeof limitScenario>>> = {
  fixedWindow: {
    successes: [true, true, true, false, false],
    remaining: [2, 1, 0, 0, 0],
    limits: [3, 3, 3, 3, 3],
    reasons: [undefined, undefined, undefined, undefined, "cacheBlock"],
    resetInFuture: true,
    otherIdentifier: true,
    remainingBlocked: 0,
    remainingAfterReset: 3,
    afterReset: true,
  },
  slidingWindow: {
    successes: [true, true, true, false, false],
    remaining: [2, 1, 0, 0, 0],
    limits: [3, 3, 3, 3, 3],
    reasons: [undefined, undefined, undefined, undefined, undefined],
    resetInFuture: true,
    otherIdentifier: true,
    remainingBlocked: 0,
    remainingAfterReset: 3,
    afterReset: true,
  },
  tokenBucket: {
    successes: [true, true, true, false, false],
    remaining: [2, 1, 0, 0, 0],
    limits: [3, 3, 3, 3, 3],
    reasons: [undefined, undefined, undefined, undefined, undefined],
    resetInFuture: true,
    otherIdentifier: true,
    remainingBlocked: 0,
    remainingAfterReset: 3,
    afterReset: true,
  },
  cachedFixedWindow: {
    successes: [true, true, true, false, false],
    // The SDK's cached fixed window counts locally past the limit (same on both transports).
    remaining: [2, 1, 0, -1, -2],
    limits: [3, 3, 3, 3, 3],
    reasons: [undefined, undefined, undefined, undefined, undefined],
    resetInFuture: true,
    otherIdentifier: true,
    remainingBlocked: 0,
    remainingAfterReset: 3,
    afterReset: true,
  },
};

async function analyticsScenario(transport: RedisTransport) {
  const prefix = prefixFor("rl-analytics");
  const ratelimit = new Ratelimit({
    redis: client(transport),
    limiter: Ratelimit.fixedWindow(2, "1 h"),
    prefix,
    ephemeralCache: false,
    analytics: true,
  });
  for (const identifier of ["alice", "alice", "alice", "bob"]) {
    const response = await ratelimit.limit(identifier);
    await response.pending;
  }
  return new Analytics({ redis: client(transport), prefix }).getUsage();
}

describe.each(TRANSPORTS)("@upstash/ratelimit 2.2.0 over %s", (transport) => {
  it.each(SCRIPTS.map((s) => [s.name, s] as const))(
    "SCRIPT LOAD of %s answers the SDK's sha1",
    async (_, script) => {
      expect(await client(transport).scriptLoad(script.script)).toBe(script.hash);
      expect(await client(transport).scriptExists(script.hash)).toEqual([1]);
    },
  );

  it("loads every published script (sanity: the bundle was read)", () => {
    expect(SCRIPTS.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        "reset",
        "singleRegion.fixedWindow.limit",
        "singleRegion.tokenBucket.getRemaining",
        "multiRegion.slidingWindow.limit",
      ]),
    );
    expect(
      SCRIPTS.filter((s) => s.script.startsWith("#!lua flags=allow-key-locking")).length,
    ).toBeGreaterThanOrEqual(12);
  });

  it.each(LIMITERS)("%s: limit N, then block; getRemaining; resetUsedTokens", async (name) => {
    expect(await limitScenario(transport, name)).toEqual(EXPECTED[name]);
  });

  it("analytics: getUsage counts allowed and blocked requests", async () => {
    expect(await analyticsScenario(transport)).toEqual({
      alice: { success: 2, blocked: 1 },
      bob: { success: 1, blocked: 0 },
    });
  });
});

describe("@upstash/ratelimit: TCP and REST agree", () => {
  it.each(LIMITERS)("%s", async (name) => {
    const [tcp, rest] = await Promise.all([
      limitScenario("tcp", name),
      limitScenario("rest", name),
    ]);
    expect(tcp).toStrictEqual(rest);
  });

  it("analytics", async () => {
    const [tcp, rest] = await Promise.all([analyticsScenario("tcp"), analyticsScenario("rest")]);
    expect(tcp).toStrictEqual(rest);
  });
});
