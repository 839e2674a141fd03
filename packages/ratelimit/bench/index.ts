// Benchmark of @hotpath/ratelimit against bare @upstash/ratelimit 2.2.0 (same transport) and
// rate-limiter-flexible on ioredis, all on one redis-server this script starts (and a gateway in
// front of it for the REST path). Prints ONE markdown section to stdout; progress goes to stderr.
import { startGateway } from "@hotpath/gateway";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import { startRedisServer } from "@hotpath/testing";
import { Ratelimit, type Duration } from "@upstash/ratelimit";
import { Redis as IORedis } from "ioredis";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { createRateLimiter, type RateLimiter } from "../src/index.ts";

type Algorithm = "fixedWindow" | "slidingWindow" | "tokenBucket" | "cachedFixedWindow";
const ALGORITHMS: readonly Algorithm[] = (
  ["fixedWindow", "slidingWindow", "tokenBucket", "cachedFixedWindow"] as const
).filter(
  (a) => !process.env.BENCH_ALGORITHMS || process.env.BENCH_ALGORITHMS.split(",").includes(a),
);
const BIG = 1_000_000_000;
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 3000);
const LATENCY_OPS = Number(process.env.BENCH_LATENCY_OPS ?? 1500);
const CONCURRENCY = 32;
const ROUNDS = 15;
const IDENTIFIERS = 1000;

const log = (message: string) => process.stderr.write(`[bench ratelimit] ${message}\n`);

interface Measurement {
  checksPerSecond: number;
  /** checks/s of each interleaved round (for same-round ratios). */
  rounds: number[];
  /** CPU time of this process per check (µs), gateway included for REST: the cost a limiter adds. */
  cpuMicros: number;
  p50: number;
  p99: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

type Check = (identifier: string) => Promise<unknown>;

/**
 * `pending` promises bare upstream returned but nobody awaited (its cachedFixedWindow answers
 * from memory and syncs Redis in `pending`). A serverless runtime waits for them (`waitUntil`)
 * and so does a slice: left running, their Redis round trips would be charged to the next
 * limiter's slice (measured: bare upstream alone 70k checks/s, interleaved 100k; ours 95k alone,
 * 82k after it).
 */
const outstanding: Promise<unknown>[] = [];
const settleOutstanding = () => Promise.all(outstanding.splice(0));

async function throughputSlice(check: Check, ms: number, label: string): Promise<number> {
  let n = 0;
  let done = 0;
  const deadline = performance.now() + ms;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await check(`${label}${n++ % IDENTIFIERS}`);
        done++;
      }
    }),
  );
  // Inside the timed slice: the work a limiter deferred is part of its cost.
  await settleOutstanding();
  return done;
}

/**
 * Measures several limiters fairly on a shared, noisy machine: throughput in ROUNDS interleaved
 * slices (CONCURRENCY checks in flight, order alternating), then latency of sequential checks
 * interleaved one by one.
 */
async function measureGroup(checks: readonly Check[]): Promise<Measurement[]> {
  for (const check of checks) for (let i = 0; i < 200; i++) await check(`w${i % IDENTIFIERS}`);
  const done = checks.map(() => 0);
  const elapsed = checks.map(() => 0);
  const rounds: number[][] = checks.map(() => []);
  const cpu = checks.map(() => 0);
  const slice = THROUGHPUT_MS / ROUNDS;
  for (let round = 0; round < ROUNDS; round++) {
    const order = checks.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const count = await throughputSlice(checks[i] as Check, slice, `id${round}-`);
      const used = process.cpuUsage(cpu0);
      const ms = performance.now() - t0;
      cpu[i] = (cpu[i] ?? 0) + used.user + used.system;
      done[i] = (done[i] ?? 0) + count;
      elapsed[i] = (elapsed[i] ?? 0) + ms;
      rounds[i]?.push(count / (ms / 1000));
    }
  }
  const latencies: number[][] = checks.map(() => []);
  for (let op = 0; op < LATENCY_OPS; op++) {
    for (const [i, check] of checks.entries()) {
      const t0 = performance.now();
      await check(`lat${op % IDENTIFIERS}`);
      latencies[i]?.push(performance.now() - t0);
      // The caller's answer latency excludes deferred work, which must not overlap the next check.
      await settleOutstanding();
    }
  }
  return checks.map((_, i) => {
    const sorted = (latencies[i] ?? []).sort((x, y) => x - y);
    return {
      checksPerSecond: (done[i] ?? 0) / ((elapsed[i] ?? 1) / 1000),
      rounds: rounds[i] ?? [],
      cpuMicros: (cpu[i] ?? 0) / Math.max(1, done[i] ?? 0),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    };
  });
}

/** Median over rounds of a/b measured in the same round: robust to load bursts from other processes. */
function roundRatio(a: Measurement, b: Measurement): number {
  const ratios = a.rounds
    .map((rate, i) => rate / (b.rounds[i] ?? Number.NaN))
    .sort((x, y) => x - y);
  return percentile(ratios, 50);
}

function bareUpstash(
  redis: HotpathRedis,
  algorithm: Algorithm,
  prefix: string,
  limit = BIG,
  window: Duration = "1m",
): Ratelimit {
  const limiter =
    algorithm === "fixedWindow"
      ? Ratelimit.fixedWindow(limit, window)
      : algorithm === "slidingWindow"
        ? Ratelimit.slidingWindow(limit, window)
        : algorithm === "tokenBucket"
          ? Ratelimit.tokenBucket(limit, window, limit)
          : Ratelimit.cachedFixedWindow(limit, window);
  return new Ratelimit({ redis, limiter, prefix, enableTelemetry: false });
}

/** One bare upstream check as a caller with `waitUntil` runs it: `pending` is settled later (in the slice). */
async function upstreamCheck(limiter: Ratelimit, identifier: string): Promise<unknown> {
  const response = await limiter.limit(identifier);
  outstanding.push(response.pending);
  return response;
}

function ours(
  redis: HotpathRedis,
  algorithm: Algorithm,
  prefix: string,
  extra: Partial<Parameters<typeof createRateLimiter>[0]> = {},
): RateLimiter {
  return createRateLimiter({
    redis,
    prefix,
    policies: {
      bench: { limit: BIG, window: "1m", algorithm },
      burst: "3 per 1m",
      daily: { limit: 1000, window: "1d", algorithm: "fixedWindow" },
    },
    ...extra,
  });
}

/** Sum of `calls` over INFO commandstats, and the EVAL/EVALSHA (round-trip) part. */
async function commandStats(client: IORedis): Promise<{ total: number; scripts: number }> {
  const info = await client.info("commandstats");
  let total = 0;
  let scripts = 0;
  for (const line of info.split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (!match) continue;
    const calls = Number(match[2]);
    if (match[1] === "info") continue;
    total += calls;
    if (match[1] === "evalsha" || match[1] === "eval") scripts += calls;
  }
  return { total, scripts };
}

async function counted(
  client: IORedis,
  action: () => Promise<unknown>,
): Promise<{ total: number; scripts: number }> {
  const before = await commandStats(client);
  await action();
  const after = await commandStats(client);
  // The second INFO itself is not counted (cmdstat_info is skipped).
  return { total: after.total - before.total, scripts: after.scripts - before.scripts };
}

const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", {
        maximumFractionDigits: digits,
        minimumFractionDigits: digits,
      })
    : "n/a";

async function main(): Promise<void> {
  const benchStarted = performance.now();
  log("starting redis-server and gateway");
  const server = await startRedisServer();
  const gateway = await startGateway({ redisUrl: server.url, port: 0 });
  const admin = new IORedis(server.url, { lazyConnect: false });
  const tcp = createRedis({ url: server.url, timeoutMs: 5000 });
  const rest = createRedis({ url: gateway.url, token: gateway.token, timeoutMs: 5000 });
  const ioredis = new IORedis(server.url);
  const rows: string[] = [];
  const ratios: string[] = [];
  try {
    // 1. Throughput and latency per algorithm, ours vs bare upstream, per transport.
    for (const [transportName, redis] of [
      ["TCP", tcp],
      ["REST via gateway", rest],
    ] as const) {
      for (const algorithm of ALGORITHMS) {
        log(`${transportName} ${algorithm}: ours vs bare @upstash/ratelimit`);
        const ourLimiter = ours(
          redis,
          algorithm,
          `bench-ours-${transportName.slice(0, 3)}-${algorithm}`,
        );
        const upstream = bareUpstash(
          redis,
          algorithm,
          `bench-bare-${transportName.slice(0, 3)}-${algorithm}`,
        );
        const [mine, bare] = (await measureGroup([
          (id) => ourLimiter.limit(id, { policy: "bench" }),
          (id) => upstreamCheck(upstream, id),
        ])) as [Measurement, Measurement];
        const ratio = roundRatio(mine, bare);
        rows.push(
          `| ${transportName} | ${algorithm} | ${fmt(mine.checksPerSecond)} | ${fmt(mine.p50, 2)} / ${fmt(mine.p99, 2)} | ${fmt(bare.checksPerSecond)} | ${fmt(bare.p50, 2)} / ${fmt(bare.p99, 2)} | **${fmt(ratio, 2)}x** | ${fmt(mine.cpuMicros, 1)} / ${fmt(bare.cpuMicros, 1)} |`,
        );
        ratios.push(`${transportName} ${algorithm}: ${fmt(ratio, 2)}x`);
      }
    }

    log("rate-limiter-flexible on ioredis");
    const rlf = new RateLimiterRedis({
      storeClient: ioredis,
      points: BIG,
      duration: 60,
      keyPrefix: "bench-rlf",
    });
    const ourTcpFixed = ours(tcp, "fixedWindow", "bench-ours-rlfcmp");
    const [rlfResult, ourFixed] = (await measureGroup([
      (id) => rlf.consume(id, 1),
      (id) => ourTcpFixed.limit(id, { policy: "bench" }),
    ])) as [Measurement, Measurement];

    // 2. Multi-policy (burst + daily quota): ours = one script, upstream = one limit() per policy.
    log("multi-policy");
    const multiRows: string[] = [];
    for (const [transportName, redis] of [
      ["TCP", tcp],
      ["REST via gateway", rest],
    ] as const) {
      const ourMulti = createRateLimiter({
        redis,
        prefix: `bench-multi-${transportName.slice(0, 3)}`,
        policies: {
          burst: { limit: BIG, window: "1m", algorithm: "tokenBucket" },
          daily: { limit: BIG, window: "1d", algorithm: "fixedWindow" },
        },
      });
      const upBurst = bareUpstash(
        redis,
        "tokenBucket",
        `bench-multi-up-burst-${transportName.slice(0, 3)}`,
      );
      const upDaily = bareUpstash(
        redis,
        "fixedWindow",
        `bench-multi-up-daily-${transportName.slice(0, 3)}`,
        BIG,
        "1d",
      );
      const [mine, bareSeq, bareParallel] = (await measureGroup([
        (id) => ourMulti.limit(id, { policy: ["burst", "daily"] }),
        async (id) => {
          await upBurst.limit(id);
          await upDaily.limit(id);
        },
        (id) => Promise.all([upBurst.limit(id), upDaily.limit(id)]),
      ])) as [Measurement, Measurement, Measurement];
      multiRows.push(
        `| ${transportName} | ${fmt(mine.checksPerSecond)} | ${fmt(mine.p50, 2)} / ${fmt(mine.p99, 2)} | ${fmt(bareSeq.checksPerSecond)} | ${fmt(bareSeq.p50, 2)} / ${fmt(bareSeq.p99, 2)} | ${fmt(bareParallel.checksPerSecond)} | ${fmt(bareParallel.p50, 2)} / ${fmt(bareParallel.p99, 2)} |`,
      );
    }

    // 2b. The exact sliding window (sorted-set log) against the approximate one, both ours.
    log("sliding window: exact log vs approximate");
    const exactRows: string[] = [];
    for (const [transportName, redis] of [
      ["TCP", tcp],
      ["REST via gateway", rest],
    ] as const) {
      const windows = createRateLimiter({
        redis,
        prefix: `bench-exact-${transportName.slice(0, 3)}`,
        policies: {
          approx: { limit: 100, window: "1m", algorithm: "slidingWindow" },
          exact: { limit: 100, window: "1m", algorithm: "slidingWindowLog" },
        },
        ephemeralCache: false,
      });
      const [approx, exact] = (await measureGroup([
        (id) => windows.limit(id, { policy: "approx" }),
        (id) => windows.limit(id, { policy: "exact" }),
      ])) as [Measurement, Measurement];
      exactRows.push(
        `| ${transportName} | ${fmt(exact.checksPerSecond)} | ${fmt(exact.p50, 2)} / ${fmt(exact.p99, 2)} | ${fmt(approx.checksPerSecond)} | ${fmt(approx.p50, 2)} / ${fmt(approx.p99, 2)} | **${fmt(roundRatio(exact, approx), 2)}x** | ${fmt(exact.cpuMicros, 1)} / ${fmt(approx.cpuMicros, 1)} |`,
      );
    }

    // 3. Redis commands per check (INFO commandstats on our own server), TCP, analytics and controls off.
    log("commands per check");
    const costRows: string[] = [];
    for (const algorithm of ALGORITHMS) {
      const limiter = createRateLimiter({
        redis: tcp,
        prefix: `bench-cost-${algorithm}`,
        policies: { p: { limit: 3, window: "1m", algorithm } },
        analytics: false,
        controls: false,
      });
      await limiter.limit("warm", { policy: "p" });
      const first = await counted(admin, () => limiter.limit("c", { policy: "p" }));
      const intermediate = await counted(admin, () => limiter.limit("c", { policy: "p" }));
      await limiter.limit("c", { policy: "p" });
      const blocking = await counted(admin, () => limiter.limit("c", { policy: "p" }));
      const cached = await counted(admin, () => limiter.limit("c", { policy: "p" }));
      const upstream = bareUpstash(tcp, algorithm, `bench-cost-up-${algorithm}`, 3);
      await upstream.limit("warm");
      const upFirst = await counted(admin, async () => (await upstream.limit("c")).pending);
      const upIntermediate = await counted(admin, async () => (await upstream.limit("c")).pending);
      const cell = (c: { total: number; scripts: number }) => `${c.total} (${c.scripts})`;
      costRows.push(
        `| ${algorithm} | ${cell(first)} | ${cell(intermediate)} | ${cell(blocking)} | ${cell(cached)} | ${cell(upFirst)} / ${cell(upIntermediate)} |`,
      );
    }
    const multiLimiter = createRateLimiter({
      redis: tcp,
      prefix: "bench-cost-multi",
      policies: {
        burst: { limit: 3, window: "1m", algorithm: "tokenBucket" },
        daily: { limit: 1000, window: "1d", algorithm: "fixedWindow" },
      },
      analytics: false,
      controls: false,
    });
    await multiLimiter.limit("warm", { policy: ["burst", "daily"] });
    const multiCost = await counted(admin, () =>
      multiLimiter.limit("c", { policy: ["burst", "daily"] }),
    );
    const upB = bareUpstash(tcp, "tokenBucket", "bench-cost-up-multi-b", 3);
    const upD = bareUpstash(tcp, "fixedWindow", "bench-cost-up-multi-d", 1000, "1d");
    await Promise.all([upB.limit("warm"), upD.limit("warm")]);
    const upMultiCost = await counted(admin, () => Promise.all([upB.limit("c"), upD.limit("c")]));
    const defaultsLimiter = createRateLimiter({
      redis: tcp,
      prefix: "bench-cost-defaults",
      policies: { p: { limit: 3, window: "1m", algorithm: "slidingWindow" } },
    });
    const defaultsFirst = await counted(admin, () => defaultsLimiter.limit("c", { policy: "p" }));
    const flushCost = await counted(admin, () => defaultsLimiter.metrics.flush());

    // 4. 10,000 requests from one blocked identifier.
    log("10,000 requests from one blocked identifier");
    const blockedOurs = createRateLimiter({
      redis: tcp,
      prefix: "bench-blocked",
      policies: { p: "3 per 1m" },
      analytics: false,
      controls: false,
    });
    const blockedOursDefaults = createRateLimiter({
      redis: tcp,
      prefix: "bench-blocked-defaults",
      policies: { p: "3 per 1m" },
    });
    const blockedUpstream = bareUpstash(tcp, "slidingWindow", "bench-blocked-up", 3);
    const blockedRlf = new RateLimiterRedis({
      storeClient: ioredis,
      points: 3,
      duration: 60,
      keyPrefix: "bench-blocked-rlf",
    });
    const blockedRlfMem = new RateLimiterRedis({
      storeClient: ioredis,
      points: 3,
      duration: 60,
      keyPrefix: "bench-blocked-rlf-mem",
      inMemoryBlockOnConsumed: 3,
    });
    const tenThousand = async (check: () => Promise<unknown>) =>
      counted(admin, async () => {
        for (let i = 0; i < 10_000; i++) await check();
      });
    const swallow = (p: Promise<unknown>) =>
      p.catch((e: unknown) => {
        if (e instanceof RateLimiterRes) return e;
        throw e;
      });
    const blockedRows = [
      [
        "@hotpath/ratelimit (analytics, controls off)",
        await tenThousand(() => blockedOurs.limit("b", { policy: "p" })),
      ],
      [
        "@hotpath/ratelimit (defaults: analytics + controls on)",
        await tenThousand(() => blockedOursDefaults.limit("b", { policy: "p" })),
      ],
      [
        "bare @upstash/ratelimit (ephemeralCache default)",
        await tenThousand(() => blockedUpstream.limit("b")),
      ],
      [
        "rate-limiter-flexible (default)",
        await tenThousand(() => swallow(blockedRlf.consume("b"))),
      ],
      [
        "rate-limiter-flexible (inMemoryBlockOnConsumed)",
        await tenThousand(() => swallow(blockedRlfMem.consume("b"))),
      ],
    ] as const;

    const elapsed = (performance.now() - benchStarted) / 1000;
    const lines = [
      "## Rate limiting",
      "",
      `@hotpath/ratelimit vs bare \`@upstash/ratelimit\` 2.2.0 (same client, same transport) and \`rate-limiter-flexible\` 11.4.0 on ioredis 5.9.3; one redis-server ${(await admin.info("server")).match(/redis_version:(\S+)/)?.[1] ?? "?"} started by the benchmark, REST through \`@hotpath/gateway\` in front of it. ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), Node ${process.version}. Throughput: ${CONCURRENCY} checks in flight over ${IDENTIFIERS} identifiers (never blocked), ${THROUGHPUT_MS / 1000} s per limiter in ${ROUNDS} slices interleaved with its peer (the machine is shared, so only same-run ratios mean anything); latency: ${LATENCY_OPS} sequential checks, interleaved one by one. "Ours" runs with its defaults (analytics batched in \`pending\`, deny list / overrides cached, no \`waitUntil\`: \`limit()\` awaits its \`pending\`); bare upstream's \`pending\` (its cachedFixedWindow's Redis sync) is left to run as with \`waitUntil\` and settled before its slice's clock stops, so its deferred Redis work is not charged to the next limiter's slice.`,
      "",
      "| transport | algorithm | ours checks/s | ours p50 / p99 ms | bare upstream checks/s | upstream p50 / p99 ms | ours / upstream (median of same-round ratios) | CPU µs/check ours / upstream |",
      "|---|---|---:|---:|---:|---:|---:|---:|",
      ...rows,
      "",
      `rate-limiter-flexible (RateLimiterRedis, fixed window, ioredis TCP): ${fmt(rlfResult.checksPerSecond)} checks/s, p50 / p99 ${fmt(rlfResult.p50, 2)} / ${fmt(rlfResult.p99, 2)} ms; ours fixedWindow over TCP in the same run: ${fmt(ourFixed.checksPerSecond)} checks/s (**${fmt(roundRatio(ourFixed, rlfResult), 2)}x** of rate-limiter-flexible).`,
      "",
      "### Several policies per request (token bucket burst + daily fixed-window quota)",
      "",
      "| transport | ours: 1 script, atomic — checks/s | p50 / p99 ms | upstream: 2 limit() in sequence — checks/s | p50 / p99 ms | upstream: 2 limit() in parallel — checks/s | p50 / p99 ms |",
      "|---|---:|---:|---:|---:|---:|---:|",
      ...multiRows,
      "",
      "### Exact sliding window (`slidingWindowLog`, sorted-set log) vs the approximate `slidingWindow`",
      "",
      "Both ours, limit 100 per minute over 1000 identifiers (a log holds up to 100 entries), block cache off so every check runs its script; interleaved as above.",
      "",
      "| transport | exact checks/s | p50 / p99 ms | approximate checks/s | p50 / p99 ms | exact / approximate | CPU µs/check exact / approximate |",
      "|---|---:|---:|---:|---:|---:|---:|",
      ...exactRows,
      "",
      "### Redis commands per check (INFO commandstats delta; in brackets the EVAL/EVALSHA calls = round trips)",
      "",
      "Limit 3 per minute, TCP, analytics and deny list/overrides off, scripts already loaded. Commands run inside a script are counted by Redis too.",
      "",
      "| algorithm | first | intermediate | the blocking one | blocked, ephemeral cache | bare upstream first / intermediate |",
      "|---|---:|---:|---:|---:|---:|",
      ...costRows,
      `| burst + daily (2 policies) | ${multiCost.total} (${multiCost.scripts}) | | | | ${upMultiCost.total} (${upMultiCost.scripts}) with 2 instances |`,
      "",
      `With the defaults, the first check of an instance also reads the deny list and overrides: ${defaultsFirst.total} commands (${defaultsFirst.scripts} script) in total; a metrics flush (at most one every 5 s per instance, in \`pending\`) of that one decision costs ${flushCost.total} commands in one pipeline (one HINCRBY per policy and counter, one ZINCRBY per identifier, EXPIREs).`,
      "",
      "### 10,000 requests from one blocked identifier (limit 3 per minute, sequential, TCP)",
      "",
      "| limiter | Redis commands | of which scripts |",
      "|---|---:|---:|",
      ...blockedRows.map(([name, c]) => `| ${name} | ${c.total} | ${c.scripts} |`),
      "",
      `Ratios ours / bare upstream: ${ratios.join("; ")}. Benchmark time ${fmt(elapsed, 0)} s.`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await Promise.allSettled([tcp.close(), rest.close()]);
    admin.disconnect();
    ioredis.disconnect();
    await gateway.close();
    await server.stop();
  }
}

await main();
