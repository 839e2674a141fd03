import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type RunningGateway } from "@hotpath/gateway";
import { buildKey, hashTag } from "@hotpath/config";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import {
  startRedisServer,
  startTcpProxy,
  TRANSPORTS,
  uniquePrefix,
  type RedisServerHandle,
  type TcpProxy,
} from "@hotpath/testing";
import { createLocks, LockError } from "../src/index.ts";
import { eventually } from "./helpers.ts";

describe.each(TRANSPORTS)("withLock when Redis is cut off from the holder (%s)", (transport) => {
  let server: RedisServerHandle;
  let proxy: TcpProxy;
  let gateway: RunningGateway | undefined;
  let holderRedis: HotpathRedis;
  let otherRedis: HotpathRedis;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startTcpProxy(server.port);
    if (transport === "rest") {
      gateway = await startGateway({ redisUrl: proxy.url, port: 0 });
      holderRedis = createRedis({ url: gateway.url, token: gateway.token, timeoutMs: 1000 });
    } else {
      holderRedis = createRedis({ url: proxy.url, timeoutMs: 1000 });
    }
    otherRedis = createRedis({ url: server.url });
  });
  afterAll(async () => {
    await holderRedis.close();
    await otherRedis.close();
    await gateway?.close();
    await proxy.close();
    await server.stop();
  });

  it("never two holders whose signals are both un-aborted; the cut-off holder gets LOCK_LOST", async () => {
    const app = uniquePrefix("lease");
    const holder = createLocks({ redis: holderRedis, app, metrics: false, timeoutMs: 1000 });
    const other = createLocks({ redis: otherRedis, app, metrics: false });
    let holderSignal: AbortSignal | undefined;
    const run = holder.withLock(
      "job",
      async (signal) => {
        holderSignal = signal;
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        return "finished";
      },
      { ttl: "1s" },
    );
    const outcome = run.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    await eventually(() => holderSignal !== undefined, 10_000);
    proxy.cut();
    try {
      // The other process takes the lock the moment the lease expires in Redis…
      const taken = await other.acquireLock("job", { wait: "10s", retry: { delayMs: 2 } });
      // …and by then the cut-off holder has been told to stop.
      expect(holderSignal?.aborted).toBe(true);
      expect(holderSignal?.reason).toBeInstanceOf(LockError);
      await taken.release();
    } finally {
      proxy.restore();
    }
    const settled = await outcome;
    expect(settled.ok).toBe(false);
    expect(!settled.ok && settled.error).toMatchObject({ code: "LOCK_LOST" });
  }, 30_000);

  it("an acquire Redis answered too late does not hold the lock for its ttl", async () => {
    const app = uniquePrefix("late-lock");
    const late = createLocks({ redis: holderRedis, app, metrics: false, timeoutMs: 300 });
    const other = createLocks({ redis: otherRedis, app, metrics: false });
    const lockKey = buildKey(app, "lock", "l", hashTag("job"));
    // Connected (again, after the test above cut it), so the acquire is really sent.
    const connected = () =>
      holderRedis.ping().then(
        () => true,
        () => false,
      );
    await eventually(connected, 10_000);
    proxy.setLatency(1500);
    try {
      // The caller is told the lock was not acquired, but the acquire still reaches Redis.
      await expect(late.tryAcquireLock("job", { ttl: "30s" })).rejects.toMatchObject({
        code: "LOCK_UNAVAILABLE",
      });
      await eventually(async () => (await otherRedis.exists(lockKey)) === 1, 10_000);
    } finally {
      proxy.setLatency(0);
    }
    // Released in the background: another process gets the lock long before the 30 s ttl.
    await eventually(async () => (await otherRedis.exists(lockKey)) === 0, 10_000);
    const taken = await other.tryAcquireLock("job");
    expect(taken).not.toBeNull();
    await taken?.release();
    await late.close();
  }, 30_000);
});
