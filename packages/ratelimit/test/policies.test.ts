import { NAMED_LIMITERS, RATE_LIMIT_TIERS } from "@hotpath/config";
import { describe, expect, it } from "vitest";
import { RateLimitError, createPolicyRegistry, resolvePolicy } from "../src/index.ts";

describe("policy registry", () => {
  const registry = createPolicyRegistry({
    policies: {
      burst: "10/1s",
      daily: "1000 per 1d",
      bucketed: { limit: 5, window: "10s", algorithm: "tokenBucket", refillRate: 1 },
    },
    buckets: { "uploads:create": ["burst", "daily"] },
  });

  it("knows the named limiters, tiers and plans of @hotpath/config", () => {
    expect(registry.get("API")).toMatchObject({
      limit: NAMED_LIMITERS.API.limit,
      algorithm: "slidingWindow",
      windowMs: 60_000,
    });
    expect(registry.get("AUTH").failure).toBe("closed");
    expect(registry.get("GENERATION").algorithm).toBe("tokenBucket");
    expect(registry.get("PUBLIC").algorithm).toBe("cachedFixedWindow");
    expect(registry.get("strict").limit).toBe(RATE_LIMIT_TIERS.strict.limit);
    expect(registry.get("plan:free")).toMatchObject({ limit: 10, windowMs: 60_000 });
    expect(registry.get("plan:pro").limit).toBe(100);
  });

  it("parses custom limits written as text", () => {
    expect(registry.get("burst")).toMatchObject({
      limit: 10,
      windowMs: 1000,
      algorithm: "slidingWindow",
      failure: "open",
    });
    expect(registry.get("daily")).toMatchObject({ limit: 1000, windowMs: 86_400_000 });
    expect(registry.get("bucketed")).toMatchObject({ refillRate: 1, limit: 5 });
  });

  it("keeps the algorithm and failure mode of a known policy replaced by text", () => {
    const replaced = createPolicyRegistry({
      policies: { strict: "3/1m", AUTH: "20/1m" },
    });
    expect(replaced.get("strict")).toMatchObject({
      limit: 3,
      windowMs: 60_000,
      algorithm: "slidingWindowLog",
      failure: "open",
    });
    expect(replaced.get("AUTH")).toMatchObject({
      limit: 20,
      algorithm: "fixedWindow",
      failure: "closed",
    });
    // An object replaces the whole policy.
    expect(
      createPolicyRegistry({
        policies: { AUTH: { limit: 20, window: "1m", algorithm: "tokenBucket" } },
      }).get("AUTH"),
    ).toMatchObject({ algorithm: "tokenBucket", failure: "open" });
  });

  it("resolves buckets through the bucket map, defaulting to moderate, and adds the plan", () => {
    expect(registry.resolve({ bucket: "auth:otp" }).map((p) => p.name)).toEqual(["strict"]);
    expect(registry.resolve({ bucket: "streams:status" }).map((p) => p.name)).toEqual(["generous"]);
    expect(registry.resolve({ bucket: "never:listed" }).map((p) => p.name)).toEqual(["moderate"]);
    expect(registry.resolve({ bucket: "tips:quick", plan: "free" }).map((p) => p.name)).toEqual([
      "strict",
      "plan:free",
    ]);
    expect(registry.resolve({ bucket: "uploads:create" }).map((p) => p.name)).toEqual([
      "burst",
      "daily",
    ]);
    expect(registry.resolve({ policy: ["burst", "burst", "daily"] }).map((p) => p.name)).toEqual([
      "burst",
      "daily",
    ]);
  });

  it.each([
    "",
    "ten per minute",
    "5 per",
    "0/1m",
    "-1/1m",
    "5 per 1 fortnight",
    "5/1x",
    "1.5/1m",
    "5 per 0s",
  ])("rejects the malformed limit %j with a clear error naming the policy", (text) => {
    let caught: unknown;
    try {
      createPolicyRegistry({ policies: { custom: text } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RateLimitError);
    expect((caught as RateLimitError).code).toBe("RATELIMIT_INVALID_POLICY");
    expect((caught as RateLimitError).message).toContain('"custom"');
  });

  it("rejects bad policy objects, names and unknown references", () => {
    expect(() => resolvePolicy("x", { limit: 0, window: "1m", algorithm: "fixedWindow" })).toThrow(
      /Invalid rate-limit policy "x".*limit/s,
    );
    expect(() =>
      resolvePolicy("x", { limit: 1, window: "1m", algorithm: "leakyBucket" as "fixedWindow" }),
    ).toThrow(/algorithm/);
    expect(() => resolvePolicy("bad name|x", "1/1m")).toThrow(/Invalid policy name/);
    expect(() => createPolicyRegistry({ buckets: { a: "nope" } })).toThrow(
      /Unknown rate-limit policy "nope"/,
    );
    expect(() => registry.resolve({})).toThrow(/Pass a `policy`/);
    expect(() => registry.resolve({ policy: "API", bucket: "auth:otp" })).toThrow(/either/);
    expect(() => registry.resolve({ plan: "enterprise" })).toThrow(/plan:enterprise/);
  });
});
