import { buildKey, hashTag, keySlot } from "@hotpath/config";
import {
  scanAll,
  startRedisCluster,
  uniquePrefix,
  writeScanKeys,
  type RedisClusterHandle,
} from "@hotpath/testing";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCliArgs } from "../src/cli-options.ts";
import { startGateway, type RunningGateway } from "../src/index.ts";
import { post } from "./http.ts";

// One cluster for the whole file: starting 6 nodes and joining them costs seconds.
let cluster: RedisClusterHandle;
let gateway: RunningGateway;
let redis: Redis;
let clusterStartMs = 0;
const app = uniquePrefix("gwcl");
// Keys of many entities: spread over the three masters.
const keys = Array.from({ length: 24 }, (_, i) => buildKey(app, "count", hashTag("e", i)));

beforeAll(async () => {
  const started = performance.now();
  cluster = await startRedisCluster();
  clusterStartMs = Math.round(performance.now() - started);
  gateway = await startGateway({ redisUrl: cluster.url, port: 0 });
  redis = new Redis({ url: gateway.url, token: gateway.token, enableTelemetry: false });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await cluster?.stop();
  console.info(`gateway cluster test: the 6-node cluster started in ${clusterStartMs} ms`);
});

/** A POST through the gateway with its token, JSON replies (no base64). */
function call(path: string, body: unknown) {
  return post(path, body, { url: gateway.url, token: gateway.token, base64: false });
}

describe("the gateway in front of a Redis Cluster (redis+cluster:// URL)", () => {
  it("takes a cluster URL as option, CLI flag, or REDIS_CLUSTER_NODES; a seed without a port is refused", async () => {
    const fromEnv = parseCliArgs([], { REDIS_CLUSTER_NODES: cluster.seeds });
    expect(fromEnv).toMatchObject({ kind: "start", options: { redisUrl: cluster.url } });
    const fromFlag = parseCliArgs(["--token-map", `token-cluster-1=${cluster.url}`], {});
    expect(fromFlag).toMatchObject({ options: { tokens: { "token-cluster-1": cluster.url } } });
    await expect(
      startGateway({ redisUrl: "redis+cluster://127.0.0.1", port: 0 }),
    ).rejects.toMatchObject({
      code: "GATEWAY_CONFIG",
      message: expect.stringMatching(/redis\+cluster:\/\/host:port,host:port/) as unknown,
    });
    expect((await call("/", ["ping"])).json).toEqual({ result: "PONG" });
  });

  it("single commands on keys of many slots reach their nodes", async () => {
    expect(new Set(keys.map(keySlot)).size).toBeGreaterThan(3);
    for (const [i, key] of keys.entries()) expect(await redis.set(key, i)).toBe("OK");
    for (const [i, key] of keys.entries()) expect(await redis.get(key)).toBe(i);
  });

  it("a pipeline spanning slots answers every command in request order", async () => {
    const pipe = redis.pipeline();
    for (const key of keys) pipe.incr(key);
    for (const key of keys) pipe.get(key);
    expect(await pipe.exec()).toEqual([...keys.map((_, i) => i + 1), ...keys.map((_, i) => i + 1)]);
    // A failing command keeps its place, the others still run; one command over two slots
    // (MGET) gets the CROSSSLOT error Redis gives it instead of failing the whole pipeline.
    const raw = await call("/pipeline", [
      ["get", keys[0]],
      ["lpush", keys[0], "x"],
      ["mget", keys[0], keys[1]],
      ["get", keys[5]],
    ]);
    expect(raw.status).toBe(200);
    expect(raw.json).toEqual([
      { result: "1" },
      { error: expect.stringMatching(/^WRONGTYPE/) as unknown },
      { error: expect.stringMatching(/^CROSSSLOT/) as unknown },
      { result: "6" },
    ]);
    // The same command alone: 400 with Redis's error (not a 503 outage).
    const alone = await call("/", ["mget", keys[0], keys[1]]);
    expect(alone.status).toBe(400);
    expect((alone.json as { error: string }).error).toMatch(/^CROSSSLOT/);
  });

  it("/multi-exec on one hash tag runs atomically on its node", async () => {
    const lock = buildKey(app, "lock", "l", hashTag("job"));
    const fence = buildKey(app, "lock", "f", hashTag("job"));
    const tx = redis.multi();
    tx.set(lock, "me");
    tx.incr(fence);
    tx.get(lock);
    expect(await tx.exec()).toEqual(["OK", 1, "me"]);
  });

  it("/multi-exec over keys of two slots answers 400 naming CROSSSLOT, and nothing runs", async () => {
    const [a, b] = [keys[0] as string, keys[1] as string];
    expect(keySlot(a)).not.toBe(keySlot(b));
    const raw = await call("/multi-exec", [
      ["set", a, "tx"],
      ["set", b, "tx"],
    ]);
    expect(raw.status).toBe(400);
    expect((raw.json as { error: string }).error).toMatch(/^CROSSSLOT .*same slot/);
    // Through the SDK it is a command error, and neither key changed.
    const tx = redis.multi();
    tx.set(a, "tx");
    tx.set(b, "tx");
    await expect(tx.exec()).rejects.toThrow(/CROSSSLOT/);
    expect([await redis.get(a), await redis.get(b)]).toEqual([1, 2]);
  });

  it("SCAN over REST pages through every master: MATCH, TYPE, WITHTYPE and pipelines see every key", async () => {
    const scanApp = uniquePrefix("gwscan");
    const inside = Array.from({ length: 300 }, (_, i) =>
      buildKey(scanApp, "count", hashTag("s", i)),
    );
    const outside = Array.from({ length: 30 }, (_, i) => buildKey(scanApp, "lb", hashTag("o", i)));
    // Distinct hash tags put the keys on every master.
    const keys = { strings: inside, hashes: outside };
    const perMaster = await writeScanKeys(redis, cluster, keys, keySlot);
    expect(perMaster.size).toBe(3);
    expect(Math.min(...perMaster.values())).toBeGreaterThan(50);
    const sorted = (keys: Iterable<string>) => [...new Set(keys)].sort();

    const match = `${scanApp}:count:*`;
    const plain = await scanAll((cursor) => redis.scan(cursor, { match, count: 50 }));
    expect(plain.items.every((key) => key.startsWith(`${scanApp}:count:`))).toBe(true);
    expect(sorted(plain.items)).toEqual(sorted(inside));

    const hashes = await scanAll((cursor) =>
      redis.scan(cursor, { match: `${scanApp}:*`, type: "hash", count: 50 }),
    );
    expect(sorted(hashes.items)).toEqual(sorted(outside));

    // WITHTYPE is emulated by a keyless EVAL: it pages through every master too.
    const typed = await scanAll((cursor) =>
      redis.scan(cursor, { match: `${scanApp}:*`, count: 50, withType: true }),
    );
    const types = new Map(typed.items.map(({ key, type }) => [key, type]));
    expect(sorted(types.keys())).toEqual(sorted([...inside, ...outside]));
    for (const key of inside) expect(types.get(key)).toBe("string");
    for (const key of outside) expect(types.get(key)).toBe("hash");

    // In /pipeline, next to another command (the gateway batches single commands this way too).
    const viaPipeline = (withType: boolean) =>
      scanAll(async (cursor) => {
        const options = ["match", match, "count", "100", ...(withType ? ["withtype"] : [])];
        const { json } = await call("/pipeline", [["ping"], ["scan", cursor, ...options]]);
        const [pong, page] = json as [{ result: string }, { result: [string, string[]] }];
        expect(pong.result).toBe("PONG");
        const [next, found] = page.result;
        return [next, withType ? found.filter((_, i) => i % 2 === 0) : found] as const;
      });
    expect(sorted((await viaPipeline(false)).items)).toEqual(sorted(inside));
    expect(sorted((await viaPipeline(true)).items)).toEqual(sorted(inside));
  });

  it("a SCAN cursor that does not decode answers Redis's invalid-cursor error, with or without WITHTYPE", async () => {
    const beyond = (7n * 2n ** 64n).toString();
    for (const body of [
      ["scan", "bogus"],
      ["scan", beyond, "match", "*"],
      ["scan", "bogus", "withtype"],
    ]) {
      const alone = await call("/", body);
      expect(alone.status).toBe(400);
      expect(alone.json).toEqual({ error: "ERR invalid cursor" });
    }
    const piped = await call("/pipeline", [["scan", "-1"], ["ping"]]);
    expect(piped.status).toBe(200);
    expect(piped.json).toEqual([{ error: "ERR invalid cursor" }, { result: "PONG" }]);
    await expect(redis.scan("bogus")).rejects.toThrow(/ERR invalid cursor/);
  });

  it("/multi-exec refuses SCAN on a cluster (one node's page would miss the other masters)", async () => {
    for (const scan of [
      ["scan", "0"],
      ["scan", "0", "withtype"],
    ]) {
      const raw = await call("/multi-exec", [["get", keys[0]], scan]);
      expect(raw.status).toBe(400);
      expect((raw.json as { error: string }).error).toMatch(/^ERR SCAN cannot run inside MULTI/);
    }
  });

  it("/subscribe streams what PUBLISH sends through the gateway on the cluster", async () => {
    const channel = buildKey(app, "cache", "ns", "bus");
    const subscriber = redis.subscribe<string>([channel]);
    const received: string[] = [];
    subscriber.on("message", ({ message }) => received.push(message));
    await new Promise<void>((resolve) => subscriber.on("subscribe", () => resolve()));
    // The subscribe event comes once Redis confirmed: one PUBLISH is enough. On a cluster its
    // count is of the receiving node's subscribers only (the message goes to every node).
    expect(await redis.publish(channel, "hello")).toBeGreaterThanOrEqual(0);
    const deadline = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline) await redis.ping();
    await subscriber.unsubscribe();
    expect(received).toEqual(["hello"]);
  });
});
