/**
 * Redis Cluster vs a single Redis, same run (`tsx bench/cluster.ts`, also a section of the
 * redis-contract benchmark): a cache hit, a rate-limit check and a 16-command pipeline over 16
 * entities, each over TCP and over REST through the gateway, on one redis-server and on a local
 * 3-master cluster (+3 replicas) started here. Interleaved rounds; ratios are cluster / single of
 * the same round. Also Redis commands per operation on the cluster and the MOVED/ASK replies its
 * nodes sent during the run (0 in steady state: the clients route by slot). On a 2-core machine
 * this shows the cluster's overhead, not its scale: all seven Redis processes share two cores.
 */
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { createCache } from "@hotpath/cache";
import { buildKey, hashTag } from "@hotpath/config";
import { startGateway, type RunningGateway } from "@hotpath/gateway";
import { createRateLimiter } from "@hotpath/ratelimit";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import { startRedisCluster, startRedisServer } from "@hotpath/testing";
import { Redis as IORedis } from "ioredis";

const ROUNDS = Number(process.env.HOTPATH_BENCH_ROUNDS ?? 10);
const ROUND_MS = 1000;
const CONCURRENCY = 32;
const LATENCY_OPS = 1000;
const ENTITIES = 1000;
const BIG = 1_000_000_000;
const log = (line: string) => process.stderr.write(`[bench cluster] ${line}\n`);

type Op = (i: number) => Promise<unknown>;

/** Operations completed by `CONCURRENCY` loops within `ROUND_MS`, per second. */
async function throughput(op: Op): Promise<number> {
  const until = performance.now() + ROUND_MS;
  let n = 0;
  let done = 0;
  const loop = async () => {
    while (performance.now() < until) {
      await op(n++);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return done / (ROUND_MS / 1000);
}

/** p50 latency (ms) of sequential calls of two operations, interleaved one by one. */
async function latencies(a: Op, b: Op): Promise<[number, number]> {
  const [ta, tb] = [new Float64Array(LATENCY_OPS), new Float64Array(LATENCY_OPS)];
  for (let i = 0; i < LATENCY_OPS; i += 1) {
    let start = performance.now();
    await a(i);
    ta[i] = performance.now() - start;
    start = performance.now();
    await b(i);
    tb[i] = performance.now() - start;
  }
  const p50 = (values: Float64Array) => values.sort()[Math.floor(values.length / 2)] ?? Number.NaN;
  return [p50(ta), p50(tb)];
}

const median = (values: readonly number[]) =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Same-round throughput of single vs cluster (order alternating), and their p50 latencies. */
async function compare(single: Op, cluster: Op) {
  for (const op of [single, cluster]) for (let i = 0; i < 200; i += 1) await op(i);
  const singles: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const first = round % 2 === 0;
    const a = await throughput(first ? single : cluster);
    const b = await throughput(first ? cluster : single);
    const [s, c] = first ? [a, b] : [b, a];
    singles.push(s);
    ratios.push(c / s);
  }
  const [p50Single, p50Cluster] = await latencies(single, cluster);
  return { single: median(singles), ratio: median(ratios), p50Single, p50Cluster };
}

/** Sum of an INFO section's counters matching `pattern` over `nodes`. */
async function infoSum(nodes: readonly IORedis[], section: string, pattern: RegExp) {
  let total = 0;
  for (const node of nodes) {
    const info = await node.info(section);
    for (const match of info.matchAll(pattern)) total += Number(match[1]);
  }
  return total;
}

const commandCalls = (nodes: readonly IORedis[]) =>
  infoSum(nodes, "commandstats", /^cmdstat_(?!info)[^:]+:calls=(\d+)/gm);
const redirects = (nodes: readonly IORedis[]) =>
  infoSum(nodes, "errorstats", /^errorstat_(?:MOVED|ASK):count=(\d+)/gm);

/** The workloads of one client: a cache hit, a rate-limit check, a 16-command pipeline. */
function workloads(redis: HotpathRedis, app: string) {
  const cache = createCache({ redis, app, namespace: "bench", defaultTtl: 600, metrics: false });
  const limiter = createRateLimiter({
    redis,
    prefix: app,
    policies: { bench: { limit: BIG, window: "1m", algorithm: "slidingWindow" } },
  });
  const keys = Array.from({ length: ENTITIES }, (_, i) => buildKey(app, "count", hashTag("e", i)));
  return {
    warm: () => cache.mset(keys.map((_, i) => ({ key: `k${i}`, value: { i } }))),
    hit: (i: number) => cache.getOrSet(`k${i % ENTITIES}`, () => ({ i })),
    check: (i: number) => limiter.limit(`id${i % ENTITIES}`, { policy: "bench" }),
    pipeline: (i: number) => {
      const pipe = redis.pipeline();
      for (let j = 0; j < 16; j += 1) pipe.get(keys[(i * 16 + j) % ENTITIES] as string);
      return pipe.exec();
    },
    close: () => cache.close(),
  };
}

const fmt = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

/** Runs the benchmark and returns its markdown section. */
export async function clusterSection(): Promise<string> {
  log("starting a redis-server, a 3-master cluster and a gateway in front of each");
  const server = await startRedisServer();
  const cluster = await startRedisCluster();
  const gateways: RunningGateway[] = [];
  const clients: HotpathRedis[] = [];
  const nodes = cluster.nodes.map((node) => new IORedis(node.port, { lazyConnect: false }));
  try {
    for (const url of [server.url, cluster.url]) {
      gateways.push(await startGateway({ redisUrl: url, port: 0 }));
    }
    const client = (url: string, token?: string) => {
      const redis = createRedis(token ? { url, token, timeoutMs: 5000 } : { url, timeoutMs: 5000 });
      clients.push(redis);
      return redis;
    };
    const [singleGateway, clusterGateway] = gateways as [RunningGateway, RunningGateway];
    const transports = {
      TCP: [client(server.url), client(cluster.url)],
      "REST via gateway": [
        client(singleGateway.url, singleGateway.token),
        client(clusterGateway.url, clusterGateway.token),
      ],
    } as const;
    const rows: string[] = [];
    const counts: string[] = [];
    const redirectsBefore = await redirects(nodes);
    for (const [name, [single, clustered]] of Object.entries(transports)) {
      const s = workloads(single, `bench-cl-s-${name.slice(0, 3)}`);
      const c = workloads(clustered, `bench-cl-c-${name.slice(0, 3)}`);
      await Promise.all([s.warm(), c.warm()]);
      for (const workload of ["hit", "check", "pipeline"] as const) {
        log(`${name} ${workload}`);
        const result = await compare(s[workload], c[workload]);
        rows.push(
          `| ${name} | ${workload === "hit" ? "cache hit (getOrSet)" : workload === "check" ? "rate-limit check (sliding window)" : "pipeline of 16 GETs over 16 entities"} | ${Math.round(result.single).toLocaleString("en")} | ${fmt(result.p50Single)} / ${fmt(result.p50Cluster)} | **${fmt(result.ratio)}x** |`,
        );
        if (workload !== "pipeline") {
          const before = await commandCalls(nodes);
          for (let i = 0; i < 100; i += 1) await c[workload](i);
          const perOp = ((await commandCalls(nodes)) - before) / 100;
          counts.push(`${name} ${workload === "hit" ? "cache hit" : "check"}: ${fmt(perOp)}`);
        }
      }
      await Promise.all([s.close(), c.close()]);
    }
    const moved = (await redirects(nodes)) - redirectsBefore;
    return [
      "## Redis Cluster vs a single Redis",
      "",
      `A local cluster of 3 masters + 3 replicas (\`startRedisCluster\`) against one redis-server, same run, same machine; REST through \`@hotpath/gateway\` in front of each. ${ROUNDS} rounds of ${ROUND_MS} ms per side, ${CONCURRENCY} operations in flight over ${ENTITIES} keys or identifiers; ratio = cluster ops/s / single ops/s of the same round, median. Latency: ${LATENCY_OPS} sequential calls each, interleaved. On this 2-core machine the seven Redis processes share the two cores with the client: the figures show the cluster's overhead, not its scale.`,
      "",
      "| transport | operation | single ops/s | p50 ms single / cluster | cluster / single |",
      "|---|---|---:|---:|---:|",
      ...rows,
      "",
      `Redis commands per operation on the cluster (INFO commandstats over every node, commands run inside scripts included; a single Redis runs the same): ${counts.join("; ")}. MOVED/ASK replies sent by the cluster's nodes during the whole run (INFO errorstats): ${moved}.`,
      "",
    ].join("\n");
  } finally {
    await Promise.all(clients.map((redis) => redis.close()));
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await Promise.all(nodes.map((node) => node.quit().catch(() => undefined)));
    await cluster.stop();
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${await clusterSection()}\n`);
}
