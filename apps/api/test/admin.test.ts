import { USERS_LIST_TAG } from "../src/trpc/routers/users.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db/database.ts";
import { openPgliteDatabase } from "../src/db/pglite.ts";
import { appRouter } from "../src/trpc/router.ts";
import { bearer, openTestApi, TEST_ADMIN_TOKEN, type TestApi } from "./helpers/runtime.ts";
import { alignToWindow, waitUntil } from "./helpers/wait.ts";

const BASE = "http://api.test";

interface ProcedureDef {
  _def: {
    type: "query" | "mutation" | "subscription";
    meta?: { admin?: boolean; audited?: boolean };
  };
}
const PROCEDURES = Object.entries(
  appRouter._def.procedures as unknown as Record<string, ProcedureDef>,
);
const ADMIN_PROCEDURES = PROCEDURES.filter(([, p]) => p._def.meta?.admin === true);
const ADMIN_MUTATIONS = ADMIN_PROCEDURES.filter(([, p]) => p._def.type === "mutation");

function call(
  path: string,
  type: "query" | "mutation" | "subscription",
  input: unknown,
  headers: Record<string, string> = {},
): Request {
  if (type === "mutation") {
    return new Request(`${BASE}/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(input),
    });
  }
  const search = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  return new Request(`${BASE}/trpc/${path}${search}`, { headers });
}

interface Body<T = unknown> {
  result?: { data: T };
  error?: { message: string; data: { httpStatus: number; zodError: unknown } };
}

/** The database, failing every statement on `admin_audit` while `broken` is set. */
function auditBreakable(db: Database): Database & { broken: boolean } {
  const wrapped = Object.create(db) as Database & { broken: boolean };
  wrapped.broken = false;
  wrapped.query = (sql, params) =>
    wrapped.broken && sql.includes("admin_audit")
      ? Promise.reject(new Error("audit table unavailable"))
      : db.query(sql, params);
  return wrapped;
}

describe("admin actions, audit trail and identifiers", () => {
  let t: TestApi;
  let db: Database & { broken: boolean };
  let userToken: string;
  const admin = bearer(TEST_ADMIN_TOKEN);

  async function send<T>(
    path: string,
    type: "query" | "mutation",
    input: unknown,
    headers = admin,
  ): Promise<{ status: number; body: Body<T>; headers: Headers }> {
    const response = await t.handler(call(path, type, input, headers));
    return {
      status: response.status,
      body: (await response.json()) as Body<T>,
      headers: response.headers,
    };
  }
  async function ok<T>(path: string, type: "query" | "mutation", input: unknown): Promise<T> {
    const { status, body } = await send<T>(path, type, input);
    expect(status, `${path}: ${JSON.stringify(body.error)}`).toBe(200);
    return body.result?.data as T;
  }
  async function latestAudit(action: string) {
    const page = await ok<{
      entries: {
        action: string;
        target: string | null;
        outcome: string;
        error: string | null;
        params: unknown;
      }[];
    }>("admin.audit", "query", { limit: 100 });
    return page.entries.find((entry) => entry.action === action);
  }
  async function userIdentifier(): Promise<string> {
    const me = await t.caller(bearer(userToken)).api.sessions.me();
    const { getRateLimitIdentifier } = await import("@hotpath/ratelimit");
    return (await getRateLimitIdentifier({ userId: me.user.id })).identifier;
  }

  beforeAll(async () => {
    db = auditBreakable(await openPgliteDatabase());
    t = await openTestApi({ db });
    userToken = await t.login("dave");
  });
  afterAll(async () => {
    await t?.close();
    await db?.close();
  });

  it("every admin procedure answers 403 to a user token and 401 without one", async () => {
    // Not vacuous: the actions of this router and the older admin reads are in the list.
    expect(ADMIN_PROCEDURES.map(([path]) => path)).toEqual(
      expect.arrayContaining([
        "admin.resetIdentifier",
        "admin.denyList.add",
        "admin.overrides.set",
        "admin.cache.invalidateNamespace",
        "admin.audit",
        "metrics.topIdentifiers",
        "jobs.rebuild",
      ]),
    );
    for (const [path] of PROCEDURES) {
      if (path.startsWith("admin.") || path.startsWith("jobs."))
        expect(
          ADMIN_PROCEDURES.map(([p]) => p),
          `${path} must be an admin procedure`,
        ).toContain(path);
    }
    for (const [path, procedure] of ADMIN_PROCEDURES) {
      const type = procedure._def.type;
      const asUser = await t.handler(call(path, type, {}, bearer(userToken)));
      expect(asUser.status, `${path} as a user`).toBe(403);
      const anonymous = await t.handler(call(path, type, {}));
      expect(anonymous.status, `${path} without a token`).toBe(401);
    }
  });

  it("every admin mutation is audited, and a call with bad input leaves an error row naming the field", async () => {
    for (const [path, procedure] of ADMIN_MUTATIONS)
      expect(procedure._def.meta?.audited, `${path} must use auditedAdminProcedure`).toBe(true);
    const { status, body } = await send("admin.denyList.add", "mutation", { ip: "not-an-ip" });
    expect(status).toBe(400);
    expect(body.error?.message).toContain("ip");
    const row = await latestAudit("admin.denyList.add");
    expect(row).toMatchObject({
      outcome: "error",
      target: "ip:not-an-ip",
      params: { ip: "not-an-ip" },
    });
    expect(row?.error).toContain("ip");
    const invalid = await send("admin.resetIdentifier", "mutation", { identifier: "has space" });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error?.message).toContain("identifier");
    expect(await latestAudit("admin.resetIdentifier")).toMatchObject({
      outcome: "error",
      target: null,
      params: { identifier: "has space" },
    });
  });

  it("reset: the identifier's used quota is back to the limit", async () => {
    await alignToWindow();
    const identifier = await userIdentifier();
    for (let i = 0; i < 3; i++) {
      const response = await t.handler(call("users.byId", "query", { id: 1 }, bearer(userToken)));
      expect(response.status).toBe(200);
    }
    const generous = async () =>
      (
        await ok<{ policies: { policy: string; limit: number; remaining: number }[] }>(
          "admin.quota",
          "query",
          { identifier },
        )
      ).policies.find((p) => p.policy === "generous");
    const before = await generous();
    expect(before?.remaining).toBeLessThanOrEqual((before?.limit ?? 0) - 3);
    await ok("admin.resetIdentifier", "mutation", { identifier });
    const after = await generous();
    expect(after?.remaining).toBe(after?.limit);
    expect(await latestAudit("admin.resetIdentifier")).toMatchObject({
      outcome: "ok",
      target: identifier,
    });
  });

  it("deny list: a denied user gets 429 until taken off the list", async () => {
    const identifier = await userIdentifier();
    const userCall = () => t.handler(call("users.byId", "query", { id: 1 }, bearer(userToken)));
    expect((await userCall()).status).toBe(200);
    await ok("admin.denyList.add", "mutation", { identifier });
    const controls = await ok<{ denied: { kind: string; value: string }[] }>(
      "admin.controls",
      "query",
      undefined,
    );
    expect(controls.denied).toContainEqual({ kind: "identifier", value: identifier });
    expect((await userCall()).status).toBe(429);
    await ok("admin.denyList.remove", "mutation", { identifier });
    expect((await userCall()).status).toBe(200);
    const after = await ok<{ denied: unknown[] }>("admin.controls", "query", undefined);
    expect(after.denied).not.toContainEqual({ kind: "identifier", value: identifier });
    expect(await latestAudit("admin.denyList.remove")).toMatchObject({
      outcome: "ok",
      target: identifier,
    });
  });

  it("overrides: a per-policy limit shows in the quota; unknown policies are a 400 naming the field", async () => {
    const identifier = await userIdentifier();
    await ok("admin.overrides.set", "mutation", { identifier, limits: { generous: 500 } });
    const quota = await ok<{ policies: { policy: string; limit: number }[] }>(
      "admin.quota",
      "query",
      { identifier },
    );
    expect(quota.policies.find((p) => p.policy === "generous")?.limit).toBe(500);
    const controls = await ok<{ overrides: unknown[] }>("admin.controls", "query", undefined);
    expect(controls.overrides).toContainEqual({ identifier, limits: { generous: 500 } });
    const response = await t.handler(call("users.byId", "query", { id: 1 }, bearer(userToken)));
    expect(response.headers.get("x-ratelimit-limit")).toBe("500");
    const unknown = await send("admin.overrides.set", "mutation", {
      identifier,
      limits: { nope: 5 },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toContain("limits.nope");
    const empty = await send("admin.overrides.set", "mutation", { identifier });
    expect(empty.status).toBe(400);
    expect(empty.body.error?.message).toContain("multiplier");
    await ok("admin.overrides.remove", "mutation", { identifier });
    const removed = await ok<{ overrides: unknown[] }>("admin.controls", "query", undefined);
    expect(removed.overrides).toEqual([]);
  });

  it("cache: flushing a namespace or a tag makes the next read a miss", async () => {
    const read = async (path: string, input: unknown) =>
      (await t.handler(call(path, "query", input))).headers.get("x-cache");
    await read("users.byId", { id: 2 });
    expect(await read("users.byId", { id: 2 })).toBe("hit");
    const flushed = await ok<{ removed: number }>("admin.cache.invalidateNamespace", "mutation", {
      namespace: "user",
    });
    expect(flushed.removed).toBeGreaterThanOrEqual(1);
    expect(await read("users.byId", { id: 2 })).toBe("miss");

    await read("users.list", { page: 1 });
    expect(await read("users.list", { page: 1 })).toBe("hit");
    const tagged = await ok<{ removed: number }>("admin.cache.invalidateTag", "mutation", {
      namespace: "userlist",
      tag: USERS_LIST_TAG,
    });
    expect(tagged.removed).toBeGreaterThanOrEqual(1);
    expect(await read("users.list", { page: 1 })).toBe("miss");
    expect(await latestAudit("admin.cache.invalidateTag")).toMatchObject({
      outcome: "ok",
      target: `userlist#${USERS_LIST_TAG}`,
    });
    const bad = await send("admin.cache.invalidateNamespace", "mutation", { namespace: "a:b*" });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toContain("namespace");
  });

  it("fails closed: when the audit row cannot be written the action does not run (503)", async () => {
    db.broken = true;
    try {
      const { status, headers } = await send("admin.denyList.add", "mutation", {
        identifier: "user_failclosed",
      });
      expect(status).toBe(503);
      expect(headers.get("retry-after")).toBe("1");
    } finally {
      db.broken = false;
    }
    const controls = await ok<{ denied: { value: string }[] }>(
      "admin.controls",
      "query",
      undefined,
    );
    expect(controls.denied.map((d) => d.value)).not.toContain("user_failclosed");
  });

  it("audit pages go back in time with nextBefore", async () => {
    const first = await ok<{ entries: { id: number }[]; nextBefore: number | null }>(
      "admin.audit",
      "query",
      { limit: 2 },
    );
    expect(first.entries).toHaveLength(2);
    expect(first.nextBefore).toBe(first.entries[1]?.id);
    const second = await ok<{ entries: { id: number }[] }>("admin.audit", "query", {
      limit: 2,
      before: first.nextBefore,
    });
    expect(second.entries[0]?.id).toBeLessThan(first.entries[1]?.id ?? 0);
  });

  it("top identifiers name the user (and the admin token) behind each hash, for the admin only", async () => {
    const identifier = await userIdentifier();
    for (let i = 0; i < 2; i++)
      await t.handler(call("users.byId", "query", { id: 1 }, bearer(userToken)));
    type Top = { identifiers: { identifier: string; principal: unknown }[] };
    let top: Top | undefined;
    await waitUntil(
      async () => {
        // A rate-limited read with the admin token: the admin is in the top list too, and the
        // limiter flushes its counters on a decision once its interval has passed.
        await ok("metrics.overview", "query", { minutes: 5 });
        top = await ok<Top>("metrics.topIdentifiers", "query", { minutes: 5, n: 100 });
        return (
          top.identifiers.some((row) => row.identifier === identifier) &&
          top.identifiers.some((row) => row.identifier.startsWith("key_"))
        );
      },
      { what: "the user's identifier in the top list" },
    );
    const row = top?.identifiers.find((r) => r.identifier === identifier);
    expect(row?.principal).toMatchObject({ kind: "user", username: "dave" });
    expect(
      top?.identifiers.some((r) => (r.principal as { kind?: string } | null)?.kind === "admin"),
    ).toBe(true);
    expect(
      top?.identifiers
        .filter((r) => r.identifier.startsWith("ip_"))
        .every((r) => r.principal === null),
    ).toBe(true);
  });
});
