import { startRedisServer, uniquePrefix, type RedisServerHandle } from "@hotpath/testing";
import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { DEV_CREDENTIALS, startQStashServer } from "../src/index.ts";
import { deleteKeys, startDestination, waitFor, type Destination } from "./helpers.ts";
import { startServerProcess, type ServerProcess } from "./process.ts";

let destination: Destination;
const processes: ServerProcess[] = [];
const redisServers: RedisServerHandle[] = [];

beforeAll(async () => {
  destination = await startDestination();
});
afterAll(async () => {
  for (const proc of processes) await proc.kill("SIGTERM");
  for (const redis of redisServers) await redis.stop();
  await destination?.close();
});

const clientFor = (url: string) =>
  new Client({ baseUrl: url, token: DEV_CREDENTIALS.token, enableTelemetry: false });

function countsById(ids: readonly string[]): number[] {
  return ids.map(
    (id) => destination.received.filter((r) => r.headers["upstash-message-id"] === id).length,
  );
}

describe("faults", () => {
  it("a server killed by pid while 50 delayed messages wait delivers all 50 once after a restart", async () => {
    const redis = await startRedisServer();
    redisServers.push(redis);
    const prefix = uniquePrefix("kill");
    const first = await startServerProcess([
      "--redis",
      redis.url,
      "--port",
      "0",
      "--prefix",
      prefix,
    ]);
    processes.push(first);
    const client = clientFor(first.url);
    const notBefore = Math.ceil(Date.now() / 1000) + 12;
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const { messageId } = await client.publishJSON({
        url: `${destination.url}/kill/${i}`,
        body: { i },
        notBefore,
      });
      ids.push(messageId);
    }
    expect(countsById(ids).every((n) => n === 0)).toBe(true); // still waiting when the kill lands
    await first.kill("SIGKILL");
    const second = await startServerProcess([
      "--redis",
      redis.url,
      "--port",
      "0",
      "--prefix",
      prefix,
    ]);
    processes.push(second);
    await waitFor(() => countsById(ids).every((n) => n >= 1), "all 50 deliveries", 40_000);
    // Anything delivered twice would have arrived by the time a later message does.
    const marker = await clientFor(second.url).publishJSON({
      url: `${destination.url}/kill-marker`,
      body: {},
    });
    await waitFor(() => countsById([marker.messageId])[0] === 1, "the marker");
    expect(countsById(ids)).toEqual(ids.map(() => 1));
    expect(
      destination.received.filter((r) => r.path.startsWith("/kill/")).every((r) => r.verified),
    ).toBe(true);
    await second.kill("SIGTERM");
  }, 90_000);

  it("reconnects after its Redis restarts and goes on delivering", async () => {
    const redis = await startRedisServer();
    redisServers.push(redis);
    const server = await startQStashServer({
      redisUrl: redis.url,
      port: 0,
      prefix: uniquePrefix("restart"),
    });
    try {
      const client = clientFor(server.url);
      const before = await client.publishJSON({
        url: `${destination.url}/before-restart`,
        body: {},
      });
      await waitFor(
        () => countsById([before.messageId])[0] === 1,
        "the delivery before the restart",
      );
      await redis.stop();
      await expect(
        client.publishJSON({ url: `${destination.url}/during`, body: {} }),
      ).rejects.toThrow();
      await redis.start();
      const after = await waitFor(
        () =>
          client
            .publishJSON({ url: `${destination.url}/after-restart`, body: {} })
            .catch(() => undefined),
        "a publish accepted after the restart",
        30_000,
      );
      const delivery = await waitFor(
        () => destination.received.find((r) => r.headers["upstash-message-id"] === after.messageId),
        "the delivery after the restart",
        30_000,
      );
      expect(delivery.verified).toBe(true);
    } finally {
      await server.close();
    }
  }, 90_000);

  it("two server processes on one Redis deliver every message exactly once", async () => {
    const prefix = uniquePrefix("pair");
    const redisUrl = inject("redisUrl");
    const a = await startServerProcess(["--redis", redisUrl, "--port", "0", "--prefix", prefix]);
    const b = await startServerProcess(["--redis", redisUrl, "--port", "0", "--prefix", prefix]);
    processes.push(a, b);
    const clients = [clientFor(a.url), clientFor(b.url)];
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const client = clients[i % 2] as Client;
      const { messageId } = await client.publishJSON({
        url: `${destination.url}/pair/${i}`,
        body: { i },
        delay: i % 4 === 0 ? 1 : 0,
      });
      ids.push(messageId);
    }
    await waitFor(() => countsById(ids).every((n) => n >= 1), "200 deliveries", 60_000);
    const marker = await clients[0]?.publishJSON({
      url: `${destination.url}/pair-marker`,
      body: {},
      delay: 1,
    });
    await waitFor(() => countsById([marker?.messageId ?? ""])[0] === 1, "the marker");
    expect(countsById(ids)).toEqual(ids.map(() => 1));
    // Both processes see the same messages.
    const pending = await clients[1]?.publishJSON({
      url: `${destination.url}/pair-pending`,
      body: {},
      delay: 3600,
    });
    await expect(clients[0]?.messages.get(pending?.messageId ?? "")).resolves.toMatchObject({
      url: `${destination.url}/pair-pending`,
    });
    await clients[0]?.messages.cancel(pending?.messageId ?? "");
    await a.kill("SIGTERM");
    await b.kill("SIGTERM");
    await deleteKeys(prefix);
  }, 120_000);
});
