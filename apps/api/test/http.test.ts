import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByUsername } from "../src/db/users.ts";
import {
  liveStreamOf,
  openTestApi,
  TEST_ADMIN_TOKEN,
  trpcMutation,
  type TestApi,
} from "./helpers/runtime.ts";
import { alignToWindow } from "./helpers/wait.ts";

const BASE = "http://api.test";

interface ErrorBody {
  error: {
    message: string;
    data: Record<string, unknown> & { zodError: { fieldErrors: Record<string, string[]> } | null };
  };
}

function query(path: string, input: unknown, headers: Record<string, string> = {}): Request {
  const search = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  return new Request(`${BASE}/trpc/${path}${search}`, { headers });
}

const mutation = trpcMutation;

describe("HTTP through the fetch handler", () => {
  let t: TestApi;
  let token: string;
  let badInputToken: string;
  let streamId: number;

  beforeAll(async () => {
    t = await openTestApi({ rateLimitPolicies: { strict: "3/1m" } });
    token = await t.login("dave");
    badInputToken = await t.login("carol");
    ({ streamId } = await liveStreamOf(t.db, "alice"));
  });
  afterAll(async () => {
    await t.close();
  });

  it("serves /healthz, /readyz, /metrics and 404, echoing the request id", async () => {
    const health = await t.handler(
      new Request(`${BASE}/healthz`, { headers: { "x-request-id": "req-123" } }),
    );
    expect(health.status).toBe(200);
    expect(health.headers.get("x-request-id")).toBe("req-123");
    const ready = await t.handler(new Request(`${BASE}/readyz`));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ok: true, redis: { ok: true }, db: { ok: true } });
    await t.handler(query("health.ping", undefined));
    await t.handler(query("streams.status", { username: "bob" }));
    const metrics = await t.handler(
      new Request(`${BASE}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }),
    );
    const text = await metrics.text();
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(text).toContain('hotpath_api_requests_total{route="/trpc/health.ping",status="200"} 1');
    expect(text).toContain("hotpath_redis_up 1");
    expect(text).toContain("hotpath_db_up 1");
    expect(text).toMatch(/hotpath_cache_hits_total\{namespace="status"\} \d+/);
    expect(text).toMatch(/hotpath_ratelimit_events_total\{event="redisChecks"\} [1-9]/);
    const missing = await t.handler(new Request(`${BASE}/nope`));
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("sets rate-limit and cache headers on every response", async () => {
    const response = await t.handler(query("streams.status", { username: "alice" }));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-ratelimit-limit")).toBe("120");
    expect(Number(response.headers.get("x-ratelimit-remaining"))).toBeLessThan(120);
    expect(response.headers.get("ratelimit-policy")).toBe('"generous";q=120;w=60');
    expect(response.headers.get("ratelimit")).toMatch(/^"generous";r=\d+;t=\d+$/);
    expect(response.headers.get("cache-control")).toBe("public, max-age=10");
    expect(response.headers.get("vary")).toContain("Cookie");
    const withSession = await t.handler(
      query("streams.status", { username: "alice" }, { cookie: `hotpath_session=${token}` }),
    );
    expect(withSession.headers.get("cache-control")).toBe("private, max-age=10");
    expect(withSession.headers.get("vary")).toContain("Cookie");
    const distribution = await t.handler(
      query(
        "metrics.keyDistribution",
        { sample: 100 },
        { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      ),
    );
    expect(distribution.headers.get("cache-control")).toBe("private, max-age=30");
    expect(distribution.headers.get("vary")).toContain("Authorization");
    const me = await t.handler(
      query("sessions.me", undefined, { authorization: `Bearer ${token}` }),
    );
    expect(me.headers.get("cache-control")).toBe("no-store");
  });

  it("answers 429 over the limit with Retry-After and retryAfter/limit/remaining in error.data", async () => {
    // The burst must fall inside one window to meet the limit exactly.
    await alignToWindow();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await t.handler(
        mutation(
          "tips.quick",
          { streamId, amount: 1 },
          { authorization: `Bearer ${token}`, "idempotency-key": `http-${i}` },
        ),
      );
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(last?.headers.get("x-ratelimit-remaining")).toBe("0");
    const body = (await last?.json()) as ErrorBody;
    expect(body.error.data).toMatchObject({
      code: "TOO_MANY_REQUESTS",
      httpStatus: 429,
      limit: 3,
      remaining: 0,
    });
    expect(body.error.data.retryAfter).toBeGreaterThanOrEqual(1);
  });

  it("replays an idempotent mutation with Idempotent-Replayed: true", async () => {
    const other = await t.login("erin");
    const headers = { authorization: `Bearer ${other}`, "idempotency-key": "http-replay" };
    const first = await t.handler(mutation("tips.quick", { streamId, amount: 2 }, headers));
    const second = await t.handler(mutation("tips.quick", { streamId, amount: 2 }, headers));
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.json()).toEqual(await first.json());
    const malformed = await t.handler(
      mutation(
        "tips.quick",
        { streamId, amount: 2 },
        { authorization: `Bearer ${other}`, "idempotency-key": "x".repeat(256) },
      ),
    );
    expect(malformed.status).toBe(400);
  });

  it("tips.mine is per-user: private, varies by credentials, never served to another user", async () => {
    const dave = (await findUserByUsername(t.db, "dave"))?.id;
    // carol: a user whose strict quota this file has not used yet.
    const otherId = (await findUserByUsername(t.db, "carol"))?.id;
    const otherToken = badInputToken;
    type Mine = { result: { data: { tips: { fromUserId: number; id: number }[] } } };
    const mine = async (bearerToken: string) => {
      const response = await t.handler(
        query("tips.mine", { n: 50 }, { authorization: `Bearer ${bearerToken}` }),
      );
      return { response, body: (await response.json()) as Mine };
    };
    const first = await mine(token);
    expect(first.response.headers.get("x-cache")).toBe("miss");
    expect(first.response.headers.get("cache-control")).toBe("private, max-age=10");
    expect(first.response.headers.get("vary")).toContain("Authorization");
    expect(first.body.result.data.tips.length).toBeGreaterThan(0);
    expect(first.body.result.data.tips.every((tip) => tip.fromUserId === dave)).toBe(true);
    const again = await mine(token);
    expect(again.response.headers.get("x-cache")).toBe("hit");
    const other = await mine(otherToken);
    expect(other.response.headers.get("x-cache")).toBe("miss");
    expect(other.body.result.data.tips.every((tip) => tip.fromUserId === otherId)).toBe(true);
    const before = other.body.result.data.tips.length;
    const tipped = await t.handler(
      mutation(
        "tips.quick",
        { streamId, amount: 3 },
        { authorization: `Bearer ${otherToken}`, "idempotency-key": "mine-1" },
      ),
    );
    expect(tipped.status).toBe(200);
    const after = await mine(otherToken);
    expect(after.response.headers.get("x-cache")).toBe("miss");
    expect(after.body.result.data.tips).toHaveLength(before + 1);
    expect((await mine(token)).body.result.data.tips).toEqual(first.body.result.data.tips);
  });

  const badInputs: { name: string; request: () => Request; field: string }[] = [
    { name: "users.byId", request: () => query("users.byId", { id: -1 }), field: "id" },
    { name: "users.list", request: () => query("users.list", { page: 0 }), field: "page" },
    {
      name: "users.update",
      request: () =>
        mutation("users.update", { displayName: "" }, { authorization: `Bearer ${token}` }),
      field: "displayName",
    },
    {
      name: "streams.status",
      request: () => query("streams.status", { username: "no spaces!" }),
      field: "username",
    },
    {
      name: "streams.start",
      request: () => mutation("streams.start", { title: "" }, { authorization: `Bearer ${token}` }),
      field: "title",
    },
    {
      name: "tips.quick (amount)",
      request: () =>
        mutation(
          "tips.quick",
          { streamId, amount: 0 },
          { authorization: `Bearer ${badInputToken}`, "idempotency-key": "bad-amount" },
        ),
      field: "amount",
    },
    {
      name: "tips.quick (streamId)",
      request: () =>
        mutation(
          "tips.quick",
          { streamId: "x", amount: 1 },
          { authorization: `Bearer ${badInputToken}`, "idempotency-key": "bad-stream" },
        ),
      field: "streamId",
    },
    {
      name: "tips.mine",
      request: () => query("tips.mine", { n: 0 }, { authorization: `Bearer ${badInputToken}` }),
      field: "n",
    },
    {
      name: "leaderboard.top",
      request: () => query("leaderboard.top", { period: "yearly" }),
      field: "period",
    },
    {
      name: "leaderboard.rank",
      request: () => query("leaderboard.rank", { member: 1.5 }),
      field: "member",
    },
    { name: "feed.recent", request: () => query("feed.recent", { n: 1000 }), field: "n" },
    {
      name: "sessions.login",
      request: () => mutation("sessions.login", { username: "dave" }),
      field: "password",
    },
    {
      name: "metrics.overview",
      request: () =>
        query("metrics.overview", { minutes: 0 }, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }),
      field: "minutes",
    },
    {
      name: "metrics.cache",
      request: () =>
        query("metrics.cache", { minutes: "all" }, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }),
      field: "minutes",
    },
    {
      name: "metrics.rateLimit",
      request: () =>
        query(
          "metrics.rateLimit",
          { minutes: -5 },
          { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        ),
      field: "minutes",
    },
    {
      name: "metrics.idempotency",
      request: () =>
        query(
          "metrics.idempotency",
          { minutes: 1e9 },
          { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        ),
      field: "minutes",
    },
    {
      name: "metrics.topIdentifiers",
      request: () =>
        query("metrics.topIdentifiers", { n: 0 }, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }),
      field: "n",
    },
    {
      name: "metrics.keyDistribution",
      request: () =>
        query(
          "metrics.keyDistribution",
          { sample: 1 },
          { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        ),
      field: "sample",
    },
  ];

  it.each(badInputs)("bad input to $name -> 400 naming $field", async ({ request, field }) => {
    const response = await t.handler(request());
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.data.zodError?.fieldErrors[field]?.length).toBeGreaterThan(0);
    expect(body.error.message).toContain(field);
  });

  it("a batch of two queries answers both", async () => {
    const input = encodeURIComponent(JSON.stringify({ 0: { username: "alice" }, 1: { n: 1 } }));
    const response = await t.handler(
      new Request(`${BASE}/trpc/streams.status,feed.recent?batch=1&input=${input}`),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as unknown[];
    expect(body).toHaveLength(2);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });
});

describe("production mode", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await openTestApi({ env: { NODE_ENV: "production" } });
  });
  afterAll(async () => {
    await t.close();
  });

  it("hides stacks and internal messages, keeps field errors", async () => {
    const bad = await t.handler(query("users.byId", { id: "nope" }));
    const body = (await bad.json()) as ErrorBody;
    expect(bad.status).toBe(400);
    expect(body.error.data.stack).toBeUndefined();
    expect(body.error.data.zodError?.fieldErrors.id).toBeDefined();
    // An internal failure: the database is closed under the API.
    const broken = await openTestApi({ env: { NODE_ENV: "production" } });
    await broken.db.close();
    const failed = await broken.handler(query("users.list", {}));
    const failure = (await failed.json()) as ErrorBody;
    expect(failed.status).toBe(500);
    expect(failure.error.message).toBe("Internal server error");
    expect(failure.error.data.stack).toBeUndefined();
    expect(JSON.stringify(failure)).not.toMatch(/pglite|closed|at /i);
    await broken.runtime.close();
    await broken.redis.close();
  });

  it("sets the Secure flag on the session cookie over https", async () => {
    const response = await t.handler(
      new Request("https://api.test/trpc/sessions.login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "dave", password: "hotpath-demo" }),
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toMatch(
      /HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/,
    );
  });
});
