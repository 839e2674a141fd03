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
import { createIdempotencyStore, fingerprintPayload, isCacheError } from "../src/index.ts";
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
});
