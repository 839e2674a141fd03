import { parseItem, parseList } from "structured-headers";
import { describe, expect, it } from "vitest";
import {
  RateLimitUnavailableError,
  isRateLimitError,
  rateLimitUnavailableResponse,
  getRateLimitHeaders,
  rateLimitExceededBody,
  rateLimitProblem,
  rateLimitResponse,
  type RateLimitResult,
} from "../src/index.ts";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

function result(success: boolean): RateLimitResult {
  return {
    success,
    limit: 10,
    remaining: success ? 4 : 0,
    reset: NOW + (success ? 1_000 : 30_500),
    retryAfter: success ? 0 : 31,
    policy: "burst",
    reason: success ? "allowed" : "limited",
    pending: Promise.resolve(),
    policies: [
      {
        policy: "burst",
        success,
        limit: 10,
        remaining: success ? 4 : 0,
        reset: NOW + (success ? 1_000 : 30_500),
        windowSeconds: 60,
      },
      {
        policy: 'daily "quota"',
        success: true,
        limit: 1000,
        remaining: 990,
        reset: NOW + 86_000_000,
        windowSeconds: 86_400,
      },
    ],
  };
}

describe("rate-limit headers", () => {
  it("emits X-RateLimit-* of the most restrictive policy, reset in ms epoch", () => {
    const headers = getRateLimitHeaders(result(true), {}, NOW);
    expect(headers["X-RateLimit-Limit"]).toBe("10");
    expect(headers["X-RateLimit-Remaining"]).toBe("4");
    expect(headers["X-RateLimit-Reset"]).toBe(String(NOW + 1_000));
    expect(headers["Retry-After"]).toBeUndefined();
  });

  it("emits IETF draft-10 RateLimit-Policy and RateLimit that parse as structured-field lists", () => {
    const headers = getRateLimitHeaders(result(false), {}, NOW);
    const policy = parseList(headers["RateLimit-Policy"] ?? "");
    expect(policy.map(([name, params]) => [name, Object.fromEntries(params)])).toEqual([
      ["burst", { q: 10, w: 60 }],
      ['daily "quota"', { q: 1000, w: 86_400 }],
    ]);
    const state = parseList(headers["RateLimit"] ?? "");
    expect(state.map(([name, params]) => [name, Object.fromEntries(params)])).toEqual([
      ["burst", { r: 0, t: 31 }],
      ['daily "quota"', { r: 990, t: 86_000 }],
    ]);
    expect(parseItem(headers["Retry-After"] ?? "")[0]).toBe(31);
    // Retry-After never points earlier than RateLimit's t of the blocking policy.
    expect(Number(headers["Retry-After"])).toBeGreaterThanOrEqual(31);
  });

  it("can leave a header family out", () => {
    expect(Object.keys(getRateLimitHeaders(result(true), { legacy: false }, NOW))).toEqual([
      "RateLimit-Policy",
      "RateLimit",
    ]);
    expect(Object.keys(getRateLimitHeaders(result(true), { ietf: false }, NOW))).toEqual([
      "X-RateLimit-Limit",
      "X-RateLimit-Remaining",
      "X-RateLimit-Reset",
    ]);
  });

  it("builds the 429 body and its problem+json variant", () => {
    expect(rateLimitExceededBody(result(false), NOW)).toEqual({
      error: "Rate limit exceeded",
      message: `Too many requests. Please try again after ${new Date(NOW + 31_000).toISOString()}`,
      retryAfter: 31,
    });
    const problem = rateLimitProblem(result(false), { instance: "/tips" }, NOW);
    expect(problem).toMatchObject({
      type: "https://iana.org/assignments/http-problem-types#quota-exceeded",
      status: 429,
      "violated-policies": ["burst"],
      retryAfter: 31,
      instance: "/tips",
    });
  });

  it("answers a 429 Response with the headers", async () => {
    const plain = rateLimitResponse(result(false));
    expect(plain.status).toBe(429);
    expect(plain.headers.get("content-type")).toBe("application/json");
    expect(plain.headers.get("retry-after")).toBe("31");
    expect(((await plain.json()) as { error: string }).error).toBe("Rate limit exceeded");
    const problem = rateLimitResponse(result(false), { problem: true });
    expect(problem.headers.get("content-type")).toBe("application/problem+json");
    expect(
      ((await problem.json()) as { "violated-policies": string[] })["violated-policies"],
    ).toEqual(["burst"]);
  });

  it("answers a 503 with Retry-After for a fail-closed policy while Redis is down", async () => {
    const error = new RateLimitUnavailableError("AUTH", 2, { cause: new Error("ECONNREFUSED") });
    expect(isRateLimitError(error, "RATELIMIT_UNAVAILABLE")).toBe(true);
    expect(isRateLimitError(error, "RATELIMIT_EXCEEDED")).toBe(false);
    const plain = rateLimitUnavailableResponse(error);
    expect(plain.status).toBe(503);
    expect(plain.headers.get("retry-after")).toBe("2");
    expect(await plain.json()).toMatchObject({ error: "Service unavailable", retryAfter: 2 });
    const problem = rateLimitUnavailableResponse(error, { problem: true });
    expect(problem.headers.get("content-type")).toBe("application/problem+json");
    expect(await problem.json()).toMatchObject({
      type: "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity",
      status: 503,
      "violated-policies": ["AUTH"],
    });
  });
});
