import { createRedis, type HotpathRedis } from "@hotpath/redis";
import { freePort } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestApi, TEST_ADMIN_TOKEN, type TestApi } from "./helpers/runtime.ts";

const BASE = "http://api.test";
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="hotpath", error="invalid_token"';

function query(path: string, input: unknown, headers: Record<string, string> = {}): Request {
  const search = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  return new Request(`${BASE}/trpc/${path}${search}`, { headers });
}

const bearerHeader = (token: string) => ({ authorization: `Bearer ${token}` });

describe("auth answers (RFC 6750)", () => {
  let t: TestApi;
  let userToken: string;

  beforeAll(async () => {
    t = await openTestApi();
    userToken = await t.login("dave");
  });
  afterAll(async () => {
    await t.close();
  });

  it("no credentials on a user procedure -> 401 with a bare Bearer challenge", async () => {
    const response = await t.handler(query("sessions.me", undefined));
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="hotpath"');
  });

  it("an unknown or malformed bearer token -> 401 with error=invalid_token", async () => {
    for (const authorization of ["Bearer not-a-session-token", "Bearer", "Basic abc"]) {
      const response = await t.handler(query("sessions.me", undefined, { authorization }));
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get("www-authenticate"), authorization).toBe(INVALID_TOKEN_CHALLENGE);
    }
  });

  it("admin procedures: invalid token 401, valid user token 403, admin token 200", async () => {
    const path = "metrics.topIdentifiers";
    const invalid = await t.handler(query(path, {}, bearerHeader("wrong-admin-token-0123456789")));
    expect(invalid.status).toBe(401);
    expect(invalid.headers.get("www-authenticate")).toBe(INVALID_TOKEN_CHALLENGE);
    const user = await t.handler(query(path, {}, bearerHeader(userToken)));
    expect(user.status).toBe(403);
    expect(user.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    const none = await t.handler(query(path, {}));
    expect(none.status).toBe(401);
    expect((await t.handler(query(path, {}, bearerHeader(TEST_ADMIN_TOKEN)))).status).toBe(200);
  });

  it("the admin token on a user procedure is valid but not a user -> 403", async () => {
    const response = await t.handler(
      query("sessions.me", undefined, bearerHeader(TEST_ADMIN_TOKEN)),
    );
    expect(response.status).toBe(403);
  });

  it("/metrics and the metrics series need the admin token", async () => {
    const none = await t.handler(new Request(`${BASE}/metrics`));
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="hotpath"');
    const invalid = await t.handler(
      new Request(`${BASE}/metrics`, { headers: bearerHeader("wrong-admin-token-0123456789") }),
    );
    expect(invalid.status).toBe(401);
    expect(invalid.headers.get("www-authenticate")).toBe(INVALID_TOKEN_CHALLENGE);
    const user = await t.handler(
      new Request(`${BASE}/metrics`, { headers: bearerHeader(userToken) }),
    );
    expect(user.status).toBe(403);
    const admin = await t.handler(
      new Request(`${BASE}/metrics`, { headers: bearerHeader(TEST_ADMIN_TOKEN) }),
    );
    expect(admin.status).toBe(200);
    expect(await admin.text()).toContain("hotpath_redis_up 1");

    for (const path of [
      "metrics.overview",
      "metrics.cache",
      "metrics.rateLimit",
      "metrics.idempotency",
    ]) {
      expect((await t.handler(query(path, {}))).status, path).toBe(401);
      expect((await t.handler(query(path, {}, bearerHeader(userToken)))).status, path).toBe(403);
      expect((await t.handler(query(path, {}, bearerHeader(TEST_ADMIN_TOKEN)))).status, path).toBe(
        200,
      );
    }
  });

  it("caps the calls of one batch (maxBatchSize 16)", async () => {
    const batch = (size: number) => {
      const paths = Array.from({ length: size }, () => "health.ping").join(",");
      const input = encodeURIComponent(
        JSON.stringify(Object.fromEntries(Array.from({ length: size }, (_, i) => [i, {}]))),
      );
      return t.handler(new Request(`${BASE}/trpc/${paths}?batch=1&input=${input}`));
    };
    expect((await batch(16)).status).toBe(200);
    expect((await batch(17)).status).toBe(400);
    expect((await batch(1000)).status).toBe(400);
  });
});

describe("METRICS_PUBLIC=true", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await openTestApi({ env: { METRICS_PUBLIC: "true" } });
  });
  afterAll(async () => {
    await t.close();
  });

  it("serves /metrics and metrics.overview without a token; admin procedures stay closed", async () => {
    expect((await t.handler(new Request(`${BASE}/metrics`))).status).toBe(200);
    expect((await t.handler(query("metrics.overview", {}))).status).toBe(200);
    expect((await t.handler(query("metrics.topIdentifiers", {}))).status).toBe(401);
  });
});

describe("/readyz with a dependency down", () => {
  let t: TestApi;
  let deadRedis: HotpathRedis;
  beforeAll(async () => {
    // Nothing listens on this port: every Redis call fails with a connection error.
    deadRedis = createRedis({ url: `redis://127.0.0.1:${await freePort()}`, timeoutMs: 300 });
    t = await openTestApi({ redis: deadRedis, env: { REDIS_TIMEOUT_MS: "300" } });
  });
  afterAll(async () => {
    await t.runtime.close();
    await t.db.close();
    await deadRedis.close();
  });

  it("answers 503 without echoing the raw error text", async () => {
    const response = await t.handler(new Request(`${BASE}/readyz`));
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ ok: false, redis: { ok: false }, db: { ok: true } });
    expect(text).not.toMatch(/error|ECONNREFUSED|127\.0\.0\.1|timed? ?out/i);
    const health = await t.handler(query("health.check", undefined));
    expect(await health.text()).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
  });
});
