import { describe, expect, it, vi } from "vitest";
import { dayOf, isoWeekOf } from "../src/adapters/projections.ts";
import { createPbkdf2Hasher } from "../src/auth/password.ts";
import { loadEnv } from "../src/env.ts";
import { constantTimeEqual, secretsEqual } from "../src/auth/secrets.ts";
import { requestIdFrom } from "../src/trpc/context.ts";
import { mapErrorCode, retryAfterOf } from "../src/trpc/errors.ts";
import { amountSchema, toCents, usernameSchema } from "../src/trpc/inputs.ts";
import { canonicalJson } from "../src/trpc/middleware/cache.ts";
import { ConfigError } from "@hotpath/config";

describe("amounts", () => {
  it.each([0.01, 0.07, 0.1, 1, 12.5, 19.99, 123.45, 9999.99, 10_000])("accepts %s", (value) => {
    expect(amountSchema.safeParse(value).success).toBe(true);
  });
  it.each([0, -1, 0.001, 1.005, 10_000.01, Number.NaN, Number.POSITIVE_INFINITY])(
    "rejects %s",
    (value) => {
      expect(amountSchema.safeParse(value).success).toBe(false);
    },
  );
  it("converts to exact cents", () => {
    expect([0.07, 19.99, 0.1 + 0.2, 1234.56].map(toCents)).toEqual([7, 1999, 30, 123456]);
  });
});

describe("usernames", () => {
  it("are lower-cased and trimmed, and reject anything outside [a-z0-9_]", () => {
    expect(usernameSchema.parse("  Alice_1 ")).toBe("alice_1");
    for (const bad of ["ab", "a b c", "x".repeat(33), "a:b", "a*b"])
      expect(usernameSchema.safeParse(bad).success).toBe(false);
  });
});

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson(undefined)).toBe("null");
  });
});

describe("leaderboard periods", () => {
  it("uses UTC days and ISO weeks (week 1 holds the first Thursday)", () => {
    expect(dayOf(Date.UTC(2026, 10, 22, 23, 59))).toBe("20261122");
    expect(isoWeekOf(Date.UTC(2026, 0, 1))).toBe("2026-W01");
    expect(isoWeekOf(Date.UTC(2027, 0, 1))).toBe("2026-W53");
    expect(isoWeekOf(Date.UTC(2021, 0, 3))).toBe("2020-W53");
    expect(isoWeekOf(Date.UTC(2026, 10, 22))).toBe("2026-W47");
  });
});

describe("password hasher", () => {
  const hasher = createPbkdf2Hasher({ iterations: 10_000 });
  it("salts every hash and verifies only the right password", async () => {
    const [one, two] = await Promise.all([hasher.hash("secret"), hasher.hash("secret")]);
    expect(one).not.toBe(two);
    expect(one).toMatch(/^pbkdf2-sha256\$10000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await hasher.verify("secret", one)).toBe(true);
    expect(await hasher.verify("Secret", one)).toBe(false);
  });
  it("treats malformed hashes as a mismatch, never an exception", async () => {
    for (const bad of [
      "",
      "plain",
      "md5$1$a$b",
      "pbkdf2-sha256$x$a$b",
      "pbkdf2-sha256$0$a$b",
      "pbkdf2-sha256$1000$!!$??",
    ]) {
      expect(await hasher.verify("secret", bad)).toBe(false);
    }
  });
});

describe("request ids and admin token comparison", () => {
  it("echoes safe ids and replaces unsafe ones", () => {
    expect(requestIdFrom(new Headers({ "x-request-id": "abc-123" }))).toBe("abc-123");
    expect(requestIdFrom(new Headers({ "x-request-id": "bad id\n" }))).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(new Headers())).toMatch(/^[0-9a-f-]{36}$/);
  });
  it("compares tokens of any length through their SHA-256 digests", async () => {
    expect(await secretsEqual("abc", "abc")).toBe(true);
    expect(await secretsEqual("abc", "abd")).toBe(false);
    expect(await secretsEqual("abc", "abcd")).toBe(false);
    expect(await secretsEqual("", "x".repeat(10_000))).toBe(false);
    // The compared buffers are digests: always 32 bytes, whatever the secrets' lengths.
    const compared: number[] = [];
    const digest = crypto.subtle.digest.bind(crypto.subtle);
    const spy = vi.spyOn(crypto.subtle, "digest").mockImplementation(async (algorithm, data) => {
      const result = await digest(algorithm, data);
      compared.push(result.byteLength);
      return result;
    });
    await secretsEqual("short", "a-much-longer-admin-token-0123456789");
    spy.mockRestore();
    expect(compared).toEqual([32, 32]);
  });
  it("compares bytes without an early exit", () => {
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});

describe("error map", () => {
  it("maps package errors by code and status", () => {
    const coded = (code: string, extra: Record<string, unknown> = {}) =>
      Object.assign(new Error(code), { code, ...extra });
    expect(mapErrorCode(coded("RATELIMIT_EXCEEDED"))).toBe("TOO_MANY_REQUESTS");
    expect(mapErrorCode(coded("RATELIMIT_UNAVAILABLE"))).toBe("SERVICE_UNAVAILABLE");
    expect(mapErrorCode(coded("IDEMPOTENCY_IN_FLIGHT", { status: 409 }))).toBe("CONFLICT");
    expect(mapErrorCode(coded("IDEMPOTENCY_MISMATCH", { status: 422 }))).toBe(
      "UNPROCESSABLE_CONTENT",
    );
    expect(mapErrorCode(coded("IDEMPOTENCY_UNAVAILABLE", { status: 503 }))).toBe(
      "SERVICE_UNAVAILABLE",
    );
    expect(mapErrorCode(coded("REDIS_TIMEOUT"))).toBe("SERVICE_UNAVAILABLE");
    expect(mapErrorCode(new Error("plain"))).toBeUndefined();
    expect(retryAfterOf(coded("X", { retryAfter: 0.2 }))).toBe(1);
    expect(retryAfterOf(new Error("none"))).toBeUndefined();
  });
});

describe("env", () => {
  it("names every bad variable", () => {
    try {
      loadEnv({
        PORT: "x",
        RATE_LIMIT_POLICIES: "[1]",
        DATABASE_SCHEMA: "Bad-Name",
        REDIS_URL: "http://nope",
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const fields = (error as ConfigError).issues.map((issue) => issue.field);
      expect(fields).toEqual(
        expect.arrayContaining(["PORT", "RATE_LIMIT_POLICIES", "DATABASE_SCHEMA", "REDIS_URL"]),
      );
    }
  });
  it("parses policy JSON", () => {
    expect(loadEnv({ RATE_LIMIT_POLICIES: '{"strict":"5/1m"}' }).RATE_LIMIT_POLICIES).toEqual({
      strict: "5/1m",
    });
  });
});

describe("public exports", () => {
  it("keep internals off the front door", async () => {
    const api = await import("../src/index.ts");
    for (const internal of [
      "DEMO_PASSWORD",
      "DEMO_USERS",
      "seedDatabase",
      "MIGRATIONS",
      "canonicalJson",
      "mapErrorCode",
      "toTRPCError",
      "bareProcedure",
      "createMemoryLogger",
      "silentLogger",
      "createPbkdf2Hasher",
    ])
      expect(Object.keys(api), internal).not.toContain(internal);
    expect(Object.keys(api)).toEqual(
      expect.arrayContaining([
        "createRuntime",
        "startApi",
        "createFetchHandler",
        "createHotpathClient",
      ]),
    );
  });
});
