import { describe, expect, it } from "vitest";
import { buildKey } from "@hotpath/config";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import { freePort, TRANSPORTS } from "@hotpath/testing";
import {
  createIdempotencyStore,
  fingerprintPayload,
  canonicalJson,
  IdempotencyInFlightError,
  IdempotencyKeyError,
  IdempotencyMismatchError,
  IdempotencyUnavailableError,
  isCacheError,
  readIdempotencyMetrics,
} from "../src/index.ts";
import { eventually, gate, useTestApps, renewalsSeen } from "./helpers.ts";

describe("canonical JSON fingerprint", () => {
  it("ignores key order and undefined members", async () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined, b: "x" }] })).toBe(
      '{"a":[1,{"b":"x","d":2}],"b":1}',
    );
    expect(await fingerprintPayload({ a: 1, b: 2 })).toBe(await fingerprintPayload({ b: 2, a: 1 }));
    expect(await fingerprintPayload({ a: 1 })).not.toBe(await fingerprintPayload({ a: 2 }));
  });
});

describe.each(TRANSPORTS)("idempotency store over %s", (transport) => {
  let redis: HotpathRedis;
  const { newApp } = useTestApps(transport, (client) => (redis = client));

  it("100 concurrent identical calls: the handler runs once, every caller gets the result or 409", async () => {
    const store = createIdempotencyStore({
      redis,
      app: newApp("conc"),
      name: "tips",
      metrics: false,
      timeoutMs: 10_000,
    });
    const fp = await fingerprintPayload({ amount: 5 });
    let runs = 0;
    let settled = 0;
    const release = gate();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, () =>
        store
          .runIdempotent(
            "key-1",
            fp,
            async () => {
              runs += 1;
              // Held until the 99 others have had their answer: they all meet it in flight.
              await release.promise;
              return { tipId: 7 };
            },
            { principal: "user-1" },
          )
          .finally(() => {
            settled += 1;
            if (settled === 99) release.open();
          }),
      ),
    );
    expect(runs).toBe(1);
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") expect(outcome.value.value).toEqual({ tipId: 7 });
      else {
        expect(outcome.reason).toBeInstanceOf(IdempotencyInFlightError);
        expect((outcome.reason as IdempotencyInFlightError).status).toBe(409);
        expect((outcome.reason as IdempotencyInFlightError).retryAfter).toBeGreaterThanOrEqual(1);
      }
    }
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const replay = await store.runIdempotent("key-1", fp, () => ({ tipId: 999 }), {
      principal: "user-1",
    });
    expect(replay).toEqual({ value: { tipId: 7 }, replayed: true });
    expect(runs).toBe(1);
  });

  it("same key, different payload -> mismatch (422), while in flight and after completion", async () => {
    const store = createIdempotencyStore({ redis, app: newApp("mismatch"), metrics: false });
    const release = gate();
    let started = false;
    const first = store.runIdempotent(
      "k",
      "fp-a",
      async () => {
        started = true;
        await release.promise;
        return 1;
      },
      { principal: "p" },
    );
    await eventually(() => started);
    const during = store.runIdempotent("k", "fp-b", () => 2, { principal: "p" });
    await expect(during).rejects.toBeInstanceOf(IdempotencyMismatchError);
    await expect(during).rejects.toMatchObject({ status: 422, code: "IDEMPOTENCY_MISMATCH" });
    release.open();
    expect(await first).toEqual({ value: 1, replayed: false });
    await expect(
      store.runIdempotent("k", "fp-b", () => 2, { principal: "p" }),
    ).rejects.toBeInstanceOf(IdempotencyMismatchError);
  });

  it("a failing handler releases the record so a retry runs; keys are scoped per principal", async () => {
    const store = createIdempotencyStore({ redis, app: newApp("release"), metrics: false });
    await expect(
      store.runIdempotent("k", "fp", () => Promise.reject(new Error("boom")), { principal: "a" }),
    ).rejects.toThrow("boom");
    expect(await store.runIdempotent("k", "fp", () => "second", { principal: "a" })).toEqual({
      value: "second",
      replayed: false,
    });
    expect(
      await store.runIdempotent("k", "fp", () => "other principal", { principal: "b" }),
    ).toEqual({ value: "other principal", replayed: false });
  });

  it("policy storeClientErrors stores and replays a 4xx failure", async () => {
    const store = createIdempotencyStore({
      redis,
      app: newApp("4xx"),
      metrics: false,
      storeClientErrors: true,
    });
    const invalid = Object.assign(new Error("amount too small"), {
      status: 400,
      code: "BAD_AMOUNT",
    });
    await expect(
      store.runIdempotent("k", "fp", () => Promise.reject(invalid), { principal: "a" }),
    ).rejects.toBe(invalid);
    let ran = false;
    await expect(
      store.runIdempotent("k", "fp", () => (ran = true), { principal: "a" }),
    ).rejects.toMatchObject({
      code: "IDEMPOTENCY_STORED_ERROR",
      status: 400,
      message: "amount too small",
    });
    expect(ran).toBe(false);
  });

  it("validates the key: required, at most 255 printable ASCII characters", async () => {
    const store = createIdempotencyStore({ redis, app: newApp("keys"), metrics: false });
    for (const bad of ["", "x".repeat(256), "caf\u00e9", "tab\there"]) {
      await expect(
        store.runIdempotent(bad, "fp", () => 1, { principal: "a" }),
      ).rejects.toBeInstanceOf(IdempotencyKeyError);
    }
    expect(
      (await store.runIdempotent("x".repeat(255), "fp", () => 1, { principal: "a" })).value,
    ).toBe(1);
  });

  it("renews the lease while the handler runs (no second run after the lease time)", async () => {
    const app = newApp("renew");
    const record = buildKey(app, "idem", "default", "a", "k");
    const store = createIdempotencyStore({ redis, app, metrics: false, leaseTtl: "1s" });
    let runs = 0;
    const release = gate();
    const first = store.runIdempotent(
      "k",
      "fp",
      async () => {
        runs += 1;
        await release.promise;
        return "done";
      },
      { principal: "a" },
    );
    await eventually(() => runs === 1);
    // Watch the record's TTL go back up: three renewals (every third of the lease) mean the
    // original lease is long over, yet the record is still in flight.
    await renewalsSeen(redis, record);
    await expect(
      store.runIdempotent("k", "fp", () => (runs += 1), { principal: "a" }),
    ).rejects.toBeInstanceOf(IdempotencyInFlightError);
    release.open();
    expect(await first).toEqual({ value: "done", replayed: false });
    expect(runs).toBe(1);
    const pttl = await redis.pttl(record);
    expect(pttl).toBeGreaterThan(86_000_000);
    expect(pttl).toBeLessThanOrEqual(86_400_000);
  });

  it("fails closed with a typed 503 error when Redis is unreachable", async () => {
    const port = await freePort();
    const dead = createRedis(
      transport === "tcp"
        ? { url: `redis://127.0.0.1:${port}`, timeoutMs: 300 }
        : { url: `http://127.0.0.1:${port}`, token: "x", timeoutMs: 300 },
    );
    const store = createIdempotencyStore({ redis: dead, metrics: false, timeoutMs: 500 });
    let ran = false;
    const error: unknown = await store
      .runIdempotent("k", "fp", () => (ran = true), { principal: "a" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdempotencyUnavailableError);
    expect(error).toMatchObject({ status: 503, code: "IDEMPOTENCY_UNAVAILABLE" });
    expect((error as IdempotencyUnavailableError).retryAfter).toBeGreaterThanOrEqual(1);
    expect(ran).toBe(false);
    await dead.close();
  });

  it("withIdempotency: runs once, replays with Idempotent-Replayed, answers 400/409/422 itself", async () => {
    const store = createIdempotencyStore({ redis, app: newApp("fetch"), metrics: false });
    let runs = 0;
    const release = gate();
    const handler = async (request: Request) => {
      runs += 1;
      const body = (await request.json()) as { amount: number };
      await release.promise;
      return new Response(JSON.stringify({ id: 1, amount: body.amount }), {
        status: 201,
        headers: { "content-type": "application/json", "x-other": "no" },
      });
    };
    const make = (key: string | null, amount: number) =>
      new Request("http://api.test/tips", {
        method: "POST",
        headers:
          key === null
            ? { "content-type": "application/json" }
            : { "idempotency-key": key, "content-type": "application/json" },
        body: JSON.stringify({ amount }),
      });
    // The first request is running (its handler holds) before the concurrent one is sent.
    const firstResponse = store.withIdempotency(make("abc", 5), handler, { principal: "u1" });
    await eventually(() => runs === 1);
    const concurrent = await store.withIdempotency(make("abc", 5), handler, { principal: "u1" });
    release.open();
    const first = await firstResponse;
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ id: 1, amount: 5 });
    expect(concurrent.status).toBe(409);
    expect(Number(concurrent.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const replay = await store.withIdempotency(make('"abc"', 5), handler, { principal: "u1" });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("content-type")).toBe("application/json");
    expect(replay.headers.get("x-other")).toBeNull();
    expect(await replay.json()).toEqual({ id: 1, amount: 5 });
    expect((await store.withIdempotency(make("abc", 6), handler, { principal: "u1" })).status).toBe(
      422,
    );
    const missing = await store.withIdempotency(make(null, 5), handler, { principal: "u1" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toMatch(/Idempotency-Key/);
    expect(runs).toBe(1);
  });

  it("counts first/replay/conflict/mismatch per minute in Redis", async () => {
    const app = newApp("idem-metrics");
    const store = createIdempotencyStore({
      redis,
      app,
      name: "tips",
      metrics: { flushIntervalMs: 0 },
    });
    await store.runIdempotent("k", "fp", () => 1, { principal: "a" });
    await store.runIdempotent("k", "fp", () => 1, { principal: "a" });
    await store.runIdempotent("k", "other", () => 1, { principal: "a" }).catch(() => undefined);
    await store.flushMetrics();
    const rows = await readIdempotencyMetrics(redis, { app, sinceMs: Date.now() - 120_000 });
    const total = (
      name:
        "idempotency_first_total" | "idempotency_replays_total" | "idempotency_mismatches_total",
    ) => rows.filter((r) => r.label === "tips").reduce((n, r) => n + r.counters[name], 0);
    expect(total("idempotency_first_total")).toBe(1);
    expect(total("idempotency_replays_total")).toBe(1);
    expect(total("idempotency_mismatches_total")).toBe(1);
    expect(isCacheError(new IdempotencyMismatchError(), "IDEMPOTENCY_MISMATCH")).toBe(true);
  });
});
