/**
 * `pnpm bench` section "## Cache": our getOrSet against BentoCache, cachified and a bare
 * `redis.get`, in the same run on a redis-server started for the benchmark (so INFO commandstats
 * deltas are exact). Prints ONE markdown section on stdout; progress goes to stderr.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { Requester } from "@upstash/redis";
import { startGateway } from "@hotpath/gateway";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import { TS_ENTRY_ARGS, startRedisServer } from "@hotpath/testing";
import { Redis as IORedis } from "ioredis";
import { createCache } from "../src/index.ts";
import { bentoMemory, bentoRedis, cachified, cachifiedRedisAdapter } from "./peers.ts";

const log = (message: string) => process.stderr.write(`[bench cache] ${message}\n`);
const payload = {
  id: 42,
  name: "Ada Lovelace",
  plan: "pro",
  tags: ["a", "b", "c"],
  score: 1234.5,
  active: true,
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Median ns/op over rounds of `ops` back-to-back awaited calls (for sub-µs in-memory paths). */
async function nsPerOp(fn: () => Promise<unknown>, ops: number, rounds: number): Promise<number> {
  for (let i = 0; i < ops; i += 1) await fn();
  const perRound: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    const started = performance.now();
    for (let i = 0; i < ops; i += 1) await fn();
    perRound.push(((performance.now() - started) * 1e6) / ops);
  }
  return median(perRound);
}

/** Per-call latencies in µs (interleaved rounds are done by the caller). */
async function latencies(fn: () => Promise<unknown>, ops: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < ops; i += 1) {
    const started = performance.now();
    await fn();
    samples.push((performance.now() - started) * 1000);
  }
  return samples;
}

/**
 * Runs several measured functions in interleaved rounds so machine noise hits all alike; p50 and
 * p99 over every call's own latency.
 */
async function compareLatency(
  named: Record<string, () => Promise<unknown>>,
  ops: number,
  rounds: number,
) {
  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(named).map((name) => [name, []]),
  );
  const means: Record<string, number[]> = Object.fromEntries(
    Object.keys(named).map((name) => [name, []]),
  );
  for (const fn of Object.values(named)) await latencies(fn, Math.min(500, ops));
  for (let r = 0; r < rounds; r += 1) {
    for (const [name, fn] of Object.entries(named)) {
      const round = await latencies(fn, ops);
      samples[name]?.push(...round);
      means[name]?.push(round.reduce((a, b) => a + b, 0) / round.length);
    }
  }
  return Object.fromEntries(
    Object.keys(named).map((name) => [
      name,
      {
        p50: median(samples[name] ?? []),
        p99: percentile(samples[name] ?? [], 99),
        roundMeans: means[name] ?? [],
      },
    ]),
  ) as Record<string, { p50: number; p99: number; roundMeans: number[] }>;
}

async function commandStats(admin: IORedis): Promise<Map<string, number>> {
  const text = await admin.info("commandstats");
  const stats = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) stats.set(match[1] as string, Number(match[2]));
  }
  return stats;
}

/** Commands Redis executed during `work` (excluding INFO), incl. those called inside scripts. */
async function commandsDuring(
  admin: IORedis,
  work: () => Promise<void>,
): Promise<{ total: number; byCommand: Record<string, number> }> {
  const before = await commandStats(admin);
  await work();
  const after = await commandStats(admin);
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [name, calls] of after) {
    if (name === "info") continue;
    const delta = calls - (before.get(name) ?? 0);
    if (delta > 0) {
      byCommand[name] = delta;
      total += delta;
    }
  }
  return { total, byCommand };
}

function countRequests(redis: HotpathRedis): { count: number } {
  const requester = (redis as unknown as { client: Requester }).client;
  const original = requester.request.bind(requester);
  const counter = { count: 0 };
  requester.request = (req) => {
    counter.count += 1;
    return original(req);
  };
  return counter;
}

async function stampede(
  lib: "hotpath" | "bentocache" | "cachified",
  port: number,
  app: string,
): Promise<{ calls: number; ok: number }> {
  const counterKey = `${app}:count:stampede-${lib}`;
  const processes = 4;
  const concurrency = 1000;
  const children = Array.from({ length: processes }, () =>
    spawn(
      process.execPath,
      [
        ...TS_ENTRY_ARGS,
        join(import.meta.dirname, "stampede-child.ts"),
        JSON.stringify({
          lib,
          port,
          app,
          key: `hot-${lib}`,
          counterKey,
          concurrency,
          loaderMs: 200,
        }),
      ],
      {
        cwd: join(import.meta.dirname, ".."),
        stdio: ["pipe", "pipe", "inherit"],
      },
    ),
  );
  const outputs = children.map((child) => {
    let out = "";
    const ready = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("ready\n")) resolve();
      }),
    );
    const done = new Promise<{ ok: number }>((resolve, reject) =>
      child.once("exit", (code) => {
        if (code !== 0) return reject(new Error(`${lib} child exited ${code}`));
        resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}") as { ok: number });
      }),
    );
    return { ready, done };
  });
  const killer = setTimeout(() => children.forEach((child) => child.kill("SIGKILL")), 60_000);
  await Promise.all(outputs.map((o) => o.ready));
  for (const child of children) child.stdin.write("go\n");
  const results = await Promise.all(outputs.map((o) => o.done));
  clearTimeout(killer);
  const admin = new IORedis(port);
  const calls = Number(await admin.get(counterKey));
  admin.disconnect();
  return { calls, ok: results.reduce((n, r) => n + r.ok, 0) };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}x`;

async function main() {
  const server = await startRedisServer();
  const gateway = await startGateway({ redisUrl: server.url, port: 0 });
  const admin = new IORedis(server.port);
  const redis = createRedis({ url: server.url, timeoutMs: 5000 });
  const rest = createRedis({ url: gateway.url, token: gateway.token, timeoutMs: 5000 });
  const app = "bench";
  const lines: string[] = [];
  try {
    // ---- 1. L1 hit -----------------------------------------------------------------------------
    log("L1 hit");
    const l1 = createCache({
      redis,
      app,
      namespace: "l1",
      defaultTtl: 600,
      l1: { bus: false, ttlMs: 600_000 },
      metrics: false,
    });
    const l1Metrics = createCache({
      redis,
      app,
      namespace: "l1m",
      defaultTtl: 600,
      l1: { bus: false, ttlMs: 600_000 },
      metrics: { flushIntervalMs: 1000 },
    });
    const bentoPlain = bentoMemory(false);
    const bentoSerialized = bentoMemory(true);
    const factory = () => payload;
    await l1.getOrSet("user", factory);
    await l1Metrics.getOrSet("user", factory);
    await bentoPlain.getOrSet({ key: "user", factory, ttl: "10m" });
    await bentoSerialized.getOrSet({ key: "user", factory, ttl: "10m" });
    const l1Ops = 20_000;
    const l1Rounds = 9;
    const l1Results: Record<string, number> = {};
    for (let pass = 0; pass < 2; pass += 1) {
      for (const [name, fn] of Object.entries({
        ours: () => l1.getOrSet("user", factory),
        oursMetrics: () => l1Metrics.getOrSet("user", factory),
        bentoPlain: () => bentoPlain.getOrSet({ key: "user", factory, ttl: "10m" }),
        bentoSerialized: () => bentoSerialized.getOrSet({ key: "user", factory, ttl: "10m" }),
      })) {
        const value = await nsPerOp(fn, l1Ops, l1Rounds);
        l1Results[name] = Math.min(l1Results[name] ?? Infinity, value);
      }
    }
    await l1Metrics.close();

    // ---- 2. Redis hit --------------------------------------------------------------------------
    log("Redis hit");
    const l2 = createCache({ redis, app, namespace: "l2", defaultTtl: 600, metrics: false });
    const l2Metrics = createCache({
      redis,
      app,
      namespace: "l2m",
      defaultTtl: 600,
      metrics: { flushIntervalMs: 1000 },
    });
    const l2Rest = createCache({
      redis: rest,
      app,
      namespace: "l2r",
      defaultTtl: 600,
      metrics: false,
    });
    const bentoL2 = bentoRedis(server.port, "bento");
    const cachifiedCache = cachifiedRedisAdapter(redis, `${app}:cachified:`);
    const bareKey = `${app}:bare:user`;
    await redis.set(bareKey, JSON.stringify(payload));
    await l2.getOrSet("user", factory);
    await l2Metrics.getOrSet("user", factory);
    await l2Rest.getOrSet("user", factory);
    await bentoL2.getOrSet({ key: "user", factory, ttl: "10m" });
    await cachified({ key: "user", cache: cachifiedCache, getFreshValue: factory, ttl: 600_000 });
    const hit = await compareLatency(
      {
        ours: () => l2.getOrSet("user", factory),
        oursMetrics: () => l2Metrics.getOrSet("user", factory),
        bare: () => redis.get(bareKey),
        bentoRedis: () => bentoL2.getOrSet({ key: "user", factory, ttl: "10m" }),
        cachified: () =>
          cachified({ key: "user", cache: cachifiedCache, getFreshValue: factory, ttl: 600_000 }),
        oursRest: () => l2Rest.getOrSet("user", factory),
        bareRest: () => rest.get(bareKey),
      },
      250,
      36,
    );
    await l2Metrics.close();

    // ---- 3. Round trips ------------------------------------------------------------------------
    log("round trips");
    const n = 100;
    const rt = createCache({ redis, app, namespace: "rt", defaultTtl: 600, metrics: false });
    const requests = countRequests(redis);
    let missRequests = 0;
    const miss = await commandsDuring(admin, async () => {
      const before = requests.count;
      for (let i = 0; i < n; i += 1) await rt.getOrSet(`miss-${i}`, factory);
      missRequests = (requests.count - before) / n;
    });
    let hitRequests = 0;
    const hitCommands = await commandsDuring(admin, async () => {
      const before = requests.count;
      for (let i = 0; i < n; i += 1) await rt.getOrSet(`miss-${i}`, factory);
      hitRequests = (requests.count - before) / n;
    });
    for (let i = 0; i < n; i += 1)
      await rt.getOrSet(`stale-${i}`, factory, {
        ttl: "100ms",
        staleWhileRevalidate: 600,
        jitter: 0,
      });
    await new Promise((resolve) => setTimeout(resolve, 250));
    let staleCritical = 0;
    let staleTotal = 0;
    const stale = await commandsDuring(admin, async () => {
      const before = requests.count;
      let critical = 0;
      for (let i = 0; i < n; i += 1) {
        const start = requests.count;
        await rt.getOrSet(`stale-${i}`, factory, {
          ttl: "100ms",
          staleWhileRevalidate: 600,
          jitter: 0,
        });
        critical += requests.count - start;
        // Let this key's background claim + refresh finish before the next caller is measured.
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      staleCritical = critical / n;
      await new Promise((resolve) => setTimeout(resolve, 300));
      staleTotal = (requests.count - before) / n;
    });
    const bentoRt = bentoRedis(server.port, "bento-rt");
    const bentoMiss = await commandsDuring(admin, async () => {
      for (let i = 0; i < n; i += 1) await bentoRt.getOrSet({ key: `m-${i}`, factory, ttl: "10m" });
    });
    const bentoHit = await commandsDuring(admin, async () => {
      for (let i = 0; i < n; i += 1) await bentoRt.getOrSet({ key: `m-${i}`, factory, ttl: "10m" });
    });
    const cfRt = cachifiedRedisAdapter(redis, `${app}:cf-rt:`);
    const cfMiss = await commandsDuring(admin, async () => {
      for (let i = 0; i < n; i += 1)
        await cachified({ key: `m-${i}`, cache: cfRt, getFreshValue: factory, ttl: 600_000 });
    });
    const cfHit = await commandsDuring(admin, async () => {
      for (let i = 0; i < n; i += 1)
        await cachified({ key: `m-${i}`, cache: cfRt, getFreshValue: factory, ttl: 600_000 });
    });
    await bentoRt.disconnectAll();
    await bentoL2.disconnectAll();

    // ---- 4. Stampede ---------------------------------------------------------------------------
    log("stampede (4 processes x 1000 concurrent misses)");
    const stampedes = {
      hotpath: await stampede("hotpath", server.port, app),
      bentocache: await stampede("bentocache", server.port, app),
      cachified: await stampede("cachified", server.port, app),
    };

    // ---- Report --------------------------------------------------------------------------------
    const per = (c: { total: number }) => fmt(c.total / n, 2);
    const cmds = (c: { byCommand: Record<string, number> }) =>
      Object.entries(c.byCommand)
        .map(([name, calls]) => `${name}×${fmt(calls / n, 2)}`)
        .join(", ");
    lines.push(
      "## Cache",
      "",
      `Same run, one redis-server started for the benchmark (${process.version}), payload ${JSON.stringify(payload).length} B JSON. ` +
        "Ours: `@hotpath/cache` `getOrSet` on `@hotpath/redis` (TCP unless marked REST = through the gateway). " +
        "Peers: BentoCache 1.6.1 (memory driver / ioredis Redis driver), @epic-web/cachified 5.6.3 with a Redis adapter on the same @upstash/redis client, " +
        "bare = `redis.get` of the same JSON (the SDK JSON-decodes it).",
      "",
      "### Latency (L1: median ns/op over rounds; Redis: median per-call latency over 36 interleaved rounds of 250 calls; lower is better; ratio = ours / theirs)",
      "",
      "| scenario | ours | theirs | ratio | target |",
      "|---|---|---|---|---|",
      `| getOrSet L1 hit vs BentoCache memory L1 (serialize: false) | ${fmt(l1Results.ours ?? 0, 0)} ns | ${fmt(l1Results.bentoPlain ?? 0, 0)} ns | ${ratio(l1Results.ours ?? 0, l1Results.bentoPlain ?? 1)} | <= 1.0x |`,
      `| getOrSet L1 hit vs BentoCache memory L1 (serialize: true, its default) | ${fmt(l1Results.ours ?? 0, 0)} ns | ${fmt(l1Results.bentoSerialized ?? 0, 0)} ns | ${ratio(l1Results.ours ?? 0, l1Results.bentoSerialized ?? 1)} | <= 1.0x |`,
      `| getOrSet L1 hit with Redis metrics on vs BentoCache (serialize: false) | ${fmt(l1Results.oursMetrics ?? 0, 0)} ns | ${fmt(l1Results.bentoPlain ?? 0, 0)} ns | ${ratio(l1Results.oursMetrics ?? 0, l1Results.bentoPlain ?? 1)} | — |`,
      `| getOrSet Redis hit vs bare redis.get + JSON.parse | ${fmt(hit.ours?.p50 ?? 0)} µs | ${fmt(hit.bare?.p50 ?? 0)} µs | ${ratio(hit.ours?.p50 ?? 0, hit.bare?.p50 ?? 1)} | <= 1.15x |`,
      `| getOrSet Redis hit (metrics on) vs bare redis.get | ${fmt(hit.oursMetrics?.p50 ?? 0)} µs | ${fmt(hit.bare?.p50 ?? 0)} µs | ${ratio(hit.oursMetrics?.p50 ?? 0, hit.bare?.p50 ?? 1)} | <= 1.15x |`,
      `| getOrSet Redis hit vs BentoCache Redis driver (ioredis) | ${fmt(hit.ours?.p50 ?? 0)} µs | ${fmt(hit.bentoRedis?.p50 ?? 0)} µs | ${ratio(hit.ours?.p50 ?? 0, hit.bentoRedis?.p50 ?? 1)} | — |`,
      `| getOrSet Redis hit vs cachified + Redis adapter | ${fmt(hit.ours?.p50 ?? 0)} µs | ${fmt(hit.cachified?.p50 ?? 0)} µs | ${ratio(hit.ours?.p50 ?? 0, hit.cachified?.p50 ?? 1)} | — |`,
      `| getOrSet Redis hit over REST vs bare redis.get over REST | ${fmt(hit.oursRest?.p50 ?? 0)} µs | ${fmt(hit.bareRest?.p50 ?? 0)} µs | ${ratio(hit.oursRest?.p50 ?? 0, hit.bareRest?.p50 ?? 1)} | <= 1.15x |`,
      "",
      `p99 of the Redis hits (µs): ours ${fmt(hit.ours?.p99 ?? 0)}, bare ${fmt(hit.bare?.p99 ?? 0)}, BentoCache ${fmt(hit.bentoRedis?.p99 ?? 0)}, cachified ${fmt(hit.cachified?.p99 ?? 0)}, ours REST ${fmt(hit.oursRest?.p99 ?? 0)}, bare REST ${fmt(hit.bareRest?.p99 ?? 0)}.`,
      "",
      "### Stampede: 1,000 concurrent misses on one key × 4 processes (loader 200 ms)",
      "",
      "| library | loader calls | callers served |",
      "|---|---|---|",
      `| @hotpath/cache (in-process + distributed single-flight) | ${stampedes.hotpath.calls} | ${stampedes.hotpath.ok} / 4000 |`,
      `| BentoCache (memory L1 + Redis L2) | ${stampedes.bentocache.calls} | ${stampedes.bentocache.ok} / 4000 |`,
      `| cachified + Redis adapter | ${stampedes.cachified.calls} | ${stampedes.cachified.ok} / 4000 |`,
      "",
      `### Redis per getOrSet (${n} ops each; requests = client round trips, commands = INFO commandstats delta incl. commands run inside scripts)`,
      "",
      "| operation | ours: round trips | ours: commands | BentoCache (Redis driver): commands | cachified: commands |",
      "|---|---|---|---|---|",
      `| hit | ${fmt(hitRequests, 2)} | ${per(hitCommands)} (${cmds(hitCommands)}) | ${per(bentoHit)} (${cmds(bentoHit)}) | ${per(cfHit)} (${cmds(cfHit)}) |`,
      `| miss | ${fmt(missRequests, 2)} | ${per(miss)} (${cmds(miss)}) | ${per(bentoMiss)} (${cmds(bentoMiss)}) | ${per(cfMiss)} (${cmds(cfMiss)}) |`,
      `| stale (SWR) | ${fmt(staleCritical, 2)} on the caller's path, ${fmt(staleTotal, 2)} with the background refresh | ${per(stale)} (${cmds(stale)}) | — | — |`,
      "",
    );
  } finally {
    admin.disconnect();
    await redis.close();
    await rest.close();
    await gateway.close();
    await server.stop();
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
process.exit(0);
