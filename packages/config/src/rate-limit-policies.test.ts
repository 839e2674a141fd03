import { describe, expect, it } from "vitest";
import {
  BUCKET_MAP,
  ConfigError,
  DEFAULT_TIER,
  NAMED_LIMITERS,
  PLANS,
  RATE_LIMIT_ALGORITHMS,
  RATE_LIMIT_TIERS,
  definePolicies,
  parseDurationMs,
  parseLimit,
  resolveBucket,
  type RateLimitPolicyInput,
} from "./index.ts";

const perMinute = (policy: { limit: number; window: string }) => ({
  limit: policy.limit,
  windowMs: parseDurationMs(policy.window),
});

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("named limiters", () => {
  it.each([
    ["API", 100],
    ["GENERATION", 10],
    ["AUTH", 5],
    ["PUBLIC", 200],
  ] as const)("%s allows %i per minute", (name, limit) => {
    expect(perMinute(NAMED_LIMITERS[name])).toEqual({ limit, windowMs: 60_000 });
    expect(RATE_LIMIT_ALGORITHMS).toContain(NAMED_LIMITERS[name].algorithm);
  });

  it("has exactly the documented names, AUTH failing closed", () => {
    expect(Object.keys(NAMED_LIMITERS).sort()).toEqual(["API", "AUTH", "GENERATION", "PUBLIC"]);
    expect(NAMED_LIMITERS.AUTH.failure).toBe("closed");
    expect(NAMED_LIMITERS.API.failure).toBe("open");
  });
});

describe("tiers, buckets and plans", () => {
  it.each([
    ["strict", 10],
    ["moderate", 60],
    ["generous", 120],
  ] as const)("tier %s allows %i per minute", (tier, limit) => {
    expect(perMinute(RATE_LIMIT_TIERS[tier])).toEqual({ limit, windowMs: 60_000 });
  });

  it.each([
    ["auth:otp", "strict"],
    ["auth:login", "strict"],
    ["tips:quick", "strict"],
    ["streams:status", "generous"],
    ["users.list", "moderate"],
    ["", "moderate"],
    ["auth:*", "moderate"],
    ["__proto__", "moderate"],
    ["toString", "moderate"],
  ] as const)("bucket %j -> %s", (bucket, tier) => {
    const resolved = resolveBucket(bucket);
    expect(resolved.tier).toBe(tier);
    expect(resolved.policy).toBe(RATE_LIMIT_TIERS[tier]);
  });

  it("holds the money path (tier and plan quotas) and logins to the exact sliding window", () => {
    expect(RATE_LIMIT_ALGORITHMS).toContain("slidingWindowLog");
    expect(RATE_LIMIT_TIERS.strict.algorithm).toBe("slidingWindowLog");
    for (const bucket of ["tips:quick", "auth:login", "auth:otp"])
      expect(resolveBucket(bucket).policy.algorithm).toBe("slidingWindowLog");
    for (const plan of Object.values(PLANS)) expect(plan.algorithm).toBe("slidingWindowLog");
  });

  it("maps only the documented buckets", () => {
    expect(BUCKET_MAP).toEqual({
      "auth:otp": "strict",
      "auth:login": "strict",
      "tips:quick": "strict",
      "streams:status": "generous",
    });
    expect(DEFAULT_TIER).toBe("moderate");
  });

  it.each([
    ["free", 10],
    ["pro", 100],
  ] as const)("plan %s allows %i per 60 s", (plan, limit) => {
    expect(perMinute(PLANS[plan])).toEqual({ limit, windowMs: 60_000 });
  });
});

describe("definePolicies", () => {
  it("fills defaults and keeps every entry (adding a policy is one entry)", () => {
    const policies = definePolicies({
      search: { limit: 30, window: "10s", algorithm: "tokenBucket", refillRate: 3 },
      upload: { limit: 2, window: "1h", algorithm: "fixedWindow", failure: "closed" },
    });
    expect(policies.search).toEqual({
      limit: 30,
      window: "10s",
      algorithm: "tokenBucket",
      refillRate: 3,
      failure: "open",
    });
    expect(policies.upload.failure).toBe("closed");
  });

  it("names every bad field in one error", () => {
    const error = configErrorOf(() =>
      definePolicies({
        good: { limit: 1, window: "1s", algorithm: "fixedWindow" },
        a: { limit: 0, window: "1s", algorithm: "fixedWindow" },
        b: { limit: 1, window: "soon", algorithm: "fixedWindow" },
        c: { limit: 1, window: "1s", algorithm: "leakyBucket" } as unknown as RateLimitPolicyInput,
        d: {
          limit: 1.5,
          window: "1s",
          algorithm: "slidingWindow",
          failure: "maybe",
        } as unknown as RateLimitPolicyInput,
        e: {
          limit: 1,
          window: "1s",
          algorithm: "fixedWindow",
          extra: true,
        } as unknown as RateLimitPolicyInput,
      }),
    );
    expect(error.code).toBe("CONFIG_INVALID_POLICY");
    const fields = error.issues.map((issue) => issue.field);
    expect(fields).toEqual(
      expect.arrayContaining(["a.limit", "b.window", "c.algorithm", "d.limit", "d.failure", "e"]),
    );
    expect(fields).not.toContain("good");
    for (const field of ["a.limit", "b.window", "c.algorithm", "d.failure"])
      expect(error.message).toContain(field);
    expect(error.message).toContain('expected a duration such as "10s"');
    expect(error.message).not.toMatch(/ZodError|"code":|at .*node_modules/);
    expect(error.cause).toBeUndefined();
  });
});

describe("parseLimit", () => {
  it.each([
    ["5 per 1h", { limit: 5, window: "1h" }],
    ["100/1m", { limit: 100, window: "1m" }],
    ["10 / 30 s", { limit: 10, window: "30s" }],
    ["60 per m", { limit: 60, window: "1m" }],
    ["  7 PER 2D ", { limit: 7, window: "2d" }],
    ["3/500ms", { limit: 3, window: "500ms" }],
    ["1 per 1.5h", { limit: 1, window: "1.5h" }],
  ])("accepts %j", (text, expected) => {
    const parsed = parseLimit(text);
    expect(parsed).toEqual(expected);
    expect(parseDurationMs(parsed.window)).toBeGreaterThan(0);
  });

  it.each([
    "",
    "5",
    "per 1h",
    "5 per",
    "0/1m",
    "-1/1m",
    "1.5/1m",
    "5 per 1y",
    "5 each 1h",
    "5//1m",
    "abc",
    "99999999999999999999/1m",
    "5 per 0s",
  ])("rejects %j with a message naming it and the expected form", (text) => {
    const error = configErrorOf(() => parseLimit(text));
    expect(error.code).toBe("CONFIG_INVALID_POLICY");
    expect(error.message).toContain(`"${text}"`);
    expect(error.message).toMatch(/per|positive/);
  });
});
