import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type RunningGateway } from "@hotpath/gateway";
import { buildKey } from "@hotpath/config";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import {
  startRedisServer,
  startTcpProxy,
  TRANSPORTS,
  uniquePrefix,
  type RedisServerHandle,
  type TcpProxy,
} from "@hotpath/testing";
import {
  createIdempotencyStore,
  fingerprintPayload,
  IdempotencyUnavailableError,
  isCacheError,
} from "../src/index.ts";
import { CLAIM_SCRIPT } from "../src/idempotency-scripts.ts";
import { eventually } from "./helpers.ts";

describe.each(TRANSPORTS)("idempotency when Redis is cut off mid-run (%s)", (transport) => {
  let server: RedisServerHandle;
  let proxy: TcpProxy;
  let gateway: RunningGateway | undefined;
  let cutRedis: HotpathRedis;
  let directRedis: HotpathRedis;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startTcpProxy(server.port);
    if (transport === "rest") {
      gateway = await startGateway({ redisUrl: proxy.url, port: 0 });
      cutRedis = createRedis({ url: gateway.url, token: gateway.token, timeoutMs: 1000 });
    } else {
      cutRedis = createRedis({ url: proxy.url, timeoutMs: 1000 });
    }
    directRedis = createRedis({ url: server.url });
  });
  /** After a cut, the client (or the gateway) reconnects on its own: wait for it. */
  const reconnected = () =>
    eventually(
      () =>
        cutRedis.ping().then(
          () => true,
          () => false,
        ),
      10_000,
    );
  afterAll(async () => {
    await cutRedis.close();
    await directRedis.close();
    await gateway?.close();
    await proxy.close();
    await server.stop();
  });

  it("renewals failing for half the lease abort the handler while the record still holds", async () => {
    await reconnected();
    const app = uniquePrefix("idem-abort");
    const store = createIdempotencyStore({
      redis: cutRedis,
      app,
      leaseTtl: "2s",
      timeoutMs: 1000,
      metrics: false,
    });
    let signal: AbortSignal | undefined;
    const fp = await fingerprintPayload({ amount: 1 });
    const run = store.runIdempotent(
      "k",
      fp,
      async (s) => {
        signal = s;
        await new Promise<void>((resolve) => s.addEventListener("abort", () => resolve()));
        throw s.reason;
      },
      { principal: "u" },
    );
    const settled = run.catch((error: unknown) => error);
    await eventually(() => signal !== undefined, 10_000);
    proxy.cut();
    try {
      await eventually(() => signal?.aborted === true, 10_000);
      // Aborted before the lease ran out: nobody else can have claimed the record yet.
      expect(await directRedis.hget(buildKey(app, "idem", "default", "u", "k"), "s")).toBe("p");
      expect(isCacheError(signal?.reason, "IDEMPOTENCY_LEASE_LOST")).toBe(true);
    } finally {
      proxy.restore();
    }
    expect(isCacheError(await settled, "IDEMPOTENCY_LEASE_LOST")).toBe(true);
  }, 30_000);

  it("a completion Redis did not take is kept and written later: a retry never runs the handler again", async () => {
    await reconnected();
    const app = uniquePrefix("idem-complete");
    const record = buildKey(app, "idem", "default", "u", "pay-1");
    const options = { app, leaseTtl: "600ms", timeoutMs: 1000, metrics: false } as const;
    const cutStore = createIdempotencyStore({ redis: cutRedis, ...options });
    const otherStore = createIdempotencyStore({ redis: directRedis, ...options });
    const fp = await fingerprintPayload({ amount: 5 });
    let runs = 0;
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const charge = async () => {
      runs += 1;
      await gate;
      return { charged: runs };
    };
    const first = cutStore.runIdempotent("pay-1", fp, charge, { principal: "u" });
    await eventually(() => runs === 1, 10_000);
    proxy.cut();
    try {
      finish();
      // The handler ran and its result goes back to the caller, although Redis did not take it.
      expect(await first).toEqual({ value: { charged: 1 }, replayed: false });
      // A retry on this instance is answered from the kept outcome, Redis or not.
      expect(await cutStore.runIdempotent("pay-1", fp, charge, { principal: "u" })).toEqual({
        value: { charged: 1 },
        replayed: true,
      });
      // Meanwhile the in-flight record expires in Redis (its lease could not be renewed).
      await eventually(async () => (await directRedis.exists(record)) === 0, 10_000);
    } finally {
      proxy.restore();
    }
    // Once Redis is reachable again the outcome is written where every instance finds it.
    await eventually(async () => (await directRedis.hget(record, "s")) === "d", 10_000);
    expect(await otherStore.runIdempotent("pay-1", fp, charge, { principal: "u" })).toEqual({
      value: { charged: 1 },
      replayed: true,
    });
    expect(runs).toBe(1);
  }, 30_000);

  /**
   * A claim Redis answered too late: the caller got 503 and the handler did not run, but the
   * claim still lands (the client cannot take back a command it sent). Seen in the cluster
   * failover test as a 409 "in flight" on the retry, for the whole lease.
   */
  const lateClaim = async (app: string, key: string) => {
    await reconnected();
    const lateStore = createIdempotencyStore({
      redis: cutRedis,
      app,
      leaseTtl: "30s",
      timeoutMs: 300,
      metrics: false,
    });
    const fp = await fingerprintPayload({ amount: 7 });
    const record = buildKey(app, "idem", "default", "u", key);
    let runs = 0;
    const charge = () => {
      runs += 1;
      return { charged: runs };
    };
    proxy.setLatency(1500);
    try {
      await expect(
        lateStore.runIdempotent(key, fp, charge, { principal: "u" }),
      ).rejects.toBeInstanceOf(IdempotencyUnavailableError);
      // The claim the caller gave up on takes the record when it arrives.
      await eventually(async () => (await directRedis.hget(record, "s")) === "p", 10_000);
    } finally {
      proxy.setLatency(0);
    }
    await reconnected();
    return { lateStore, fp, record, charge, runs: () => runs };
  };

  it("a retry on the same instance takes over the claim it gave up on (no 409 for the lease)", async () => {
    const app = uniquePrefix("idem-late-same");
    const { lateStore, fp, charge, runs } = await lateClaim(app, "pay-2");
    expect(runs()).toBe(0);
    expect(await lateStore.runIdempotent("pay-2", fp, charge, { principal: "u" })).toEqual({
      value: { charged: 1 },
      replayed: false,
    });
    expect(runs()).toBe(1);
  }, 30_000);

  it("the claim script takes a record over only from the abandoned claim's own token", async () => {
    const record = buildKey(uniquePrefix("idem-takeover"), "idem", "default", "u", "k");
    const claim = async (token: string, abandonedToken: string) => {
      const reply = await directRedis.eval<unknown[], unknown[]>(
        CLAIM_SCRIPT.source,
        [record],
        ["fp", token, 30_000, abandonedToken],
      );
      return reply[0];
    };
    expect(await claim("t1", "")).toBe("claimed");
    // Another request's claim (or no abandoned claim here): in flight.
    expect(await claim("t2", "")).toBe("inflight");
    expect(await claim("t2", "t0")).toBe("inflight");
    // This instance gave up on t1: its retry takes the record over, and now holds it.
    expect(await claim("t2", "t1")).toBe("claimed");
    expect(await directRedis.hget(record, "t")).toBe("t2");
    expect(await claim("t3", "t1")).toBe("inflight");
  });

  it("a claim given up on is released in the background: another instance is not blocked for the lease", async () => {
    const app = uniquePrefix("idem-late-other");
    const { fp, record, charge, runs } = await lateClaim(app, "pay-3");
    const otherStore = createIdempotencyStore({ redis: directRedis, app, metrics: false });
    // Well within the 30 s lease the late claim would otherwise hold.
    await eventually(async () => (await directRedis.exists(record)) === 0, 10_000);
    expect(await otherStore.runIdempotent("pay-3", fp, charge, { principal: "u" })).toEqual({
      value: { charged: 1 },
      replayed: false,
    });
    expect(runs()).toBe(1);
  }, 30_000);
});
