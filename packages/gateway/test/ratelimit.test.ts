import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { testTargets, uniquePrefix } from "@hotpath/testing";
import { Analytics, Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { afterAll, describe, expect, it } from "vitest";

// The unmodified @upstash/redis SDK (auto-pipelining on, its default) and the published
// @upstash/ratelimit 2.2.0, pointed at the gateway: a smoke test of what users run.

/** The Lua scripts of the published bundle (not exported), evaluated from its own source. */
function bundledScripts(): { script: string; hash: string }[] {
  const require = createRequire(import.meta.url);
  const bundle = readFileSync(require.resolve("@upstash/ratelimit"), "utf8");
  const section = bundle.slice(
    bundle.indexOf("// src/lua-scripts/single.ts"),
    bundle.indexOf("// src/types.ts"),
  );
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the SDK's own constants
  const load = new Function(`${section}\nreturn { SCRIPTS, RESET_SCRIPT };`) as () => {
    SCRIPTS: Record<string, Record<string, Record<string, { script: string; hash: string }>>>;
    RESET_SCRIPT: { script: string; hash: string };
  };
  const { SCRIPTS, RESET_SCRIPT } = load();
  return [
    RESET_SCRIPT,
    ...Object.values(SCRIPTS).flatMap((algorithms) =>
      Object.values(algorithms).flatMap((kinds) => Object.values(kinds)),
    ),
  ];
}

const { gatewayUrl, gatewayToken } = testTargets();
const redis = new Redis({ url: gatewayUrl, token: gatewayToken, enableTelemetry: false });
const prefixes: string[] = [];

function prefixFor(label: string): string {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  return prefix;
}

afterAll(async () => {
  for (const prefix of prefixes) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, { match: `${prefix}*`, count: 500 });
      cursor = String(next);
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  }
});

describe("@upstash/ratelimit 2.2.0 through the gateway", () => {
  it("SCRIPT LOAD of every bundled script answers the SDK's own sha1 (shebang flags included)", async () => {
    const scripts = bundledScripts();
    expect(scripts.length).toBeGreaterThanOrEqual(13);
    expect(scripts.some(({ script }) => script.startsWith("#!lua flags=allow-key-locking"))).toBe(
      true,
    );
    for (const { script, hash } of scripts) expect(await redis.scriptLoad(script)).toBe(hash);
    expect(await redis.scriptExists(...scripts.map(({ hash }) => hash))).toEqual(
      scripts.map(() => 1),
    );
  });

  it.each([
    ["fixedWindow", () => Ratelimit.fixedWindow(3, "1 h"), 3],
    ["slidingWindow", () => Ratelimit.slidingWindow(3, "1 h"), 3],
    ["tokenBucket", () => Ratelimit.tokenBucket(1, "1 h", 3), 3],
  ] as const)(
    "%s allows N, then blocks; getRemaining and resetUsedTokens",
    async (name, limiter, limit) => {
      const ratelimit = new Ratelimit({
        redis,
        limiter: limiter(),
        prefix: prefixFor(name),
        ephemeralCache: false,
      });
      const outcomes = [];
      for (let i = 0; i < limit + 2; i += 1) outcomes.push(await ratelimit.limit("user-1"));
      expect(outcomes.map((outcome) => outcome.success)).toEqual([true, true, true, false, false]);
      expect(outcomes.map((outcome) => outcome.remaining)).toEqual([2, 1, 0, 0, 0]);
      expect(
        outcomes.every((outcome) => outcome.limit === limit && outcome.reason === undefined),
      ).toBe(true);
      expect((await ratelimit.getRemaining("user-1")).remaining).toBe(0);
      expect((await ratelimit.getRemaining("user-2")).remaining).toBe(limit);

      await ratelimit.resetUsedTokens("user-1");
      expect((await ratelimit.getRemaining("user-1")).remaining).toBe(limit);
      expect((await ratelimit.limit("user-1")).success).toBe(true);
    },
  );

  it("cachedFixedWindow allows N, then blocks", async () => {
    const ratelimit = new Ratelimit({
      redis,
      limiter: Ratelimit.cachedFixedWindow(3, "1 h"),
      prefix: prefixFor("cached"),
      ephemeralCache: new Map(),
    });
    const outcomes = [];
    for (let i = 0; i < 5; i += 1) {
      const outcome = await ratelimit.limit("user-1");
      await outcome.pending;
      outcomes.push(outcome);
    }
    expect(outcomes.map((outcome) => outcome.success)).toEqual([true, true, true, false, false]);
    expect((await ratelimit.getRemaining("user-1")).remaining).toBe(0);
  });

  it("records analytics that getUsage reads back", async () => {
    const prefix = prefixFor("analytics");
    const ratelimit = new Ratelimit({
      redis,
      limiter: Ratelimit.fixedWindow(2, "1 h"),
      prefix,
      analytics: true,
      ephemeralCache: false,
    });
    for (const id of ["alice", "alice", "alice", "bob"]) await (await ratelimit.limit(id)).pending;
    const usage = await new Analytics({ redis, prefix }).getUsage();
    expect(usage).toEqual({ alice: { success: 2, blocked: 1 }, bob: { success: 1, blocked: 0 } });
  });
});
