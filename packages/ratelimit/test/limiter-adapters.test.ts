import { TRANSPORTS } from "@hotpath/testing";
import { describe, expect, it, vi } from "vitest";
import { RateLimitExceededError, enforceRateLimit, withRateLimit } from "../src/index.ts";
import { WINDOW_MS, useLimiterSuite } from "./limiter-fixtures.ts";

describe.each(TRANSPORTS)("rate limiter adapters over %s", (transport) => {
  const suite = useLimiterSuite(transport);
  const { make } = suite;

  describe("adapters", () => {
    it("withRateLimit answers 429 with headers and body once the limit is hit", async () => {
      const limiter = make();
      const request = () =>
        new Request("http://localhost/tips", {
          headers: { "x-forwarded-for": "6.6.6.6, 198.51.100.20" },
        });
      const handler = () => new Response("ok", { status: 200 });
      const ok = await withRateLimit(limiter, request(), handler, {
        policy: "burst",
        identify: { trustedProxyCount: 1 },
      });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("x-ratelimit-remaining")).toBe("2");
      expect(ok.headers.get("ratelimit-policy")).toBe('"burst";q=3;w=60');
      const behindOneProxy = { policy: "burst", identify: { trustedProxyCount: 1 } } as const;
      await withRateLimit(limiter, request(), handler, behindOneProxy);
      await withRateLimit(limiter, request(), handler, behindOneProxy);
      const blocked = await withRateLimit(limiter, request(), handler, {
        ...behindOneProxy,
        problem: true,
      });
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get("content-type")).toBe("application/problem+json");
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // Another client behind the same proxy is not affected.
      const other = await withRateLimit(
        limiter,
        new Request("http://localhost/", { headers: { "x-forwarded-for": "198.51.100.21" } }),
        handler,
        behindOneProxy,
      );
      expect(other.status).toBe(200);
    });

    it("withRateLimit with the defaults: a new x-forwarded-for / x-real-ip per request does not escape the AUTH limit", async () => {
      // AUTH is a fixed window read by upstream's script: Date is the injected clock.
      vi.useFakeTimers({
        toFake: ["Date"],
        now: (Math.floor(Date.now() / WINDOW_MS) + 2) * WINDOW_MS,
      });
      try {
        const limiter = make();
        const statuses: number[] = [];
        for (let i = 0; i < 7; i++) {
          const spoofed = new Request("http://localhost/login", {
            headers: { "x-forwarded-for": `203.0.113.${i}`, "x-real-ip": `198.51.100.${i}` },
          });
          const response = await withRateLimit(limiter, spoofed, () => new Response("ok"), {
            policy: "AUTH",
            identify: { ip: "192.0.2.50" }, // the socket's peer
          });
          statuses.push(response.status);
        }
        expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      } finally {
        vi.useRealTimers();
      }
    });

    it("withRateLimit takes a custom identify function and keeps immutable responses intact", async () => {
      const limiter = make();
      const fetched = Response.redirect("http://localhost/elsewhere", 302); // immutable headers
      const response = await withRateLimit(
        limiter,
        new Request("http://localhost/"),
        () => fetched,
        {
          policy: "burst",
          identify: (request) => `path:${new URL(request.url).pathname}`,
        },
      );
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe("http://localhost/elsewhere");
      expect(response.headers.get("x-ratelimit-remaining")).toBe("2");
      expect((await limiter.getRemaining("path:/", { policy: "burst" }))[0]?.remaining).toBe(2);
    });

    it("enforceRateLimit returns headers, or throws RateLimitExceededError with retryAfter", async () => {
      const limiter = make();
      const { headers } = await enforceRateLimit(limiter, { identifier: "u", policy: "burst" });
      expect(headers["X-RateLimit-Limit"]).toBe("3");
      await enforceRateLimit(limiter, { identifier: "u", policy: "burst" });
      await enforceRateLimit(limiter, { identifier: "u", policy: "burst" });
      const error = await enforceRateLimit(limiter, { identifier: "u", policy: "burst" }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RateLimitExceededError);
      expect(error).toMatchObject({
        code: "RATELIMIT_EXCEEDED",
        limit: 3,
        remaining: 0,
        policy: "burst",
      });
      expect((error as RateLimitExceededError).retryAfter).toBeGreaterThanOrEqual(1);
      expect((error as RateLimitExceededError).headers["Retry-After"]).toBe(
        String((error as RateLimitExceededError).retryAfter),
      );
    });
  });
});
