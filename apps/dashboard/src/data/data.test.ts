import { describe, expect, it } from "vitest";
import { classifyError, worstProblem } from "./errors.ts";
import {
  DAY_RANGE_MIN_REFRESH_MS,
  HOUR_RANGE_MIN_REFRESH_MS,
  metricsRefreshMs,
} from "./refresh.ts";
import { TOKEN_STORAGE_KEY, createTokenStore } from "./token-store.ts";

describe("token store", () => {
  it("keeps the token in the given storage and notifies subscribers", () => {
    const storage = window.sessionStorage;
    storage.clear();
    const store = createTokenStore(storage);
    const seen: (string | null)[] = [];
    const unsubscribe = store.subscribe(() => seen.push(store.get()));
    store.set("  secret-token-123456  ");
    expect(store.get()).toBe("secret-token-123456");
    expect(storage.getItem(TOKEN_STORAGE_KEY)).toBe("secret-token-123456");
    expect(createTokenStore(storage).get()).toBe("secret-token-123456");
    store.set(null);
    expect(storage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    unsubscribe();
    store.set("x");
    expect(seen).toEqual(["secret-token-123456", null]);
  });
  it("works in memory when storage throws", () => {
    const broken = {
      getItem() {
        throw new Error("denied");
      },
      setItem() {
        throw new Error("denied");
      },
      removeItem() {
        throw new Error("denied");
      },
    } as unknown as Storage;
    const store = createTokenStore(broken);
    expect(store.get()).toBeNull();
    store.set("abc");
    expect(store.get()).toBe("abc");
  });
  it("never puts the token in the URL", () => {
    const store = createTokenStore(window.sessionStorage);
    store.set("do-not-leak-0123456789");
    expect(window.location.href).not.toContain("do-not-leak");
  });
});

describe("classifyError", () => {
  it("recognises 401 and 403 from tRPC and passes the API's reason on", () => {
    expect(
      classifyError({ message: "Log in", data: { code: "UNAUTHORIZED", httpStatus: 401 } }),
    ).toEqual({
      kind: "unauthorized",
      message:
        "The API rejected the admin token (401: Log in). Enter the ADMIN_TOKEN the API was started with.",
    });
    const disabled = classifyError({
      message: "Admin endpoints are disabled",
      data: { code: "FORBIDDEN", httpStatus: 403 },
    });
    expect(disabled.kind).toBe("unauthorized");
    expect(disabled.message).toContain("(403: Admin endpoints are disabled)");
    expect(classifyError({ message: "no", data: { code: "FORBIDDEN" } }).message).toContain(
      "(403: no)",
    );
  });
  it("treats no HTTP answer or a proxy gateway error as unreachable", () => {
    expect(classifyError(new TypeError("Failed to fetch"))).toEqual({
      kind: "unreachable",
      message: "The API did not answer (Failed to fetch)",
    });
    expect(classifyError({ message: "bad gateway", data: { httpStatus: 502 } }).kind).toBe(
      "unreachable",
    );
  });
  it("reports other API errors with their status", () => {
    const problem = classifyError({
      message: "boom",
      data: { code: "INTERNAL_SERVER_ERROR", httpStatus: 500 },
    });
    expect(problem).toEqual({
      kind: "failed",
      message: "The API answered with an error (500): boom",
    });
  });
  it("explains a 429 with the API's retryAfter", () => {
    expect(
      classifyError({
        message: "Rate limit exceeded",
        data: { code: "TOO_MANY_REQUESTS", httpStatus: 429, retryAfter: 12 },
      }),
    ).toEqual({
      kind: "failed",
      message: "The API rate-limited this dashboard (429); it allows the next call in 12 s",
    });
  });
  it("picks the worst problem", () => {
    const down = { kind: "unreachable", message: "down" } as const;
    const auth = { kind: "unauthorized", message: "auth" } as const;
    expect(worstProblem([null, down, auth])).toBe(auth);
    expect(worstProblem([null, down])).toBe(down);
    expect(worstProblem([null, null])).toBeNull();
  });
});

describe("metricsRefreshMs", () => {
  it("keeps the base interval for 15 min and slows down longer ranges", () => {
    expect(metricsRefreshMs("15m", 5000)).toBe(5000);
    expect(metricsRefreshMs("1h", 5000)).toBe(HOUR_RANGE_MIN_REFRESH_MS);
    expect(metricsRefreshMs("24h", 5000)).toBe(DAY_RANGE_MIN_REFRESH_MS);
    // A base interval slower than the floor wins.
    expect(metricsRefreshMs("1h", 120_000)).toBe(120_000);
  });
});
