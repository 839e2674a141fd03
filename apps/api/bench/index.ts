/**
 * API benchmark (`tsx bench/index.ts`): prints ONE markdown section "## API" to stdout, progress
 * to stderr. On loopback, against an API process started here (TCP transport to a redis-server
 * started here, embedded PGlite in a temp folder with 100k users):
 *   (a) health.ping — a bare tRPC query, no middleware, no I/O;
 *   (b) streams.status — rate limit (EVALSHA) + cache hit;
 *   (c) users.byId — cache miss each request (unique ids), read from PostgreSQL (PGlite);
 * then the outbox's cost on `tips.quick` (bench/outbox.ts).
 * Redis commands per request come from INFO commandstats deltas on our own redis-server.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "../src/db/migrate.ts";
import { openPgliteDatabase } from "../src/db/pglite.ts";
import { seedDatabase } from "../src/db/seed.ts";
import { createPbkdf2Hasher } from "../src/auth/password.ts";
import { latencyCostSection } from "./latency-cost.ts";
import { outboxLatencySection } from "./outbox.ts";

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  "2xx": number;
}
interface AutocannonRequest {
  method?: string;
  path?: string;
  setupRequest?: (request: { path: string }) => { path: string };
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests?: AutocannonRequest[];
}) => Promise<AutocannonResult>;

const require = createRequire(import.meta.url);
const autocannon = require("autocannon") as Autocannon;
const API_DIR = fileURLToPath(new URL("..", import.meta.url));
const TSX = join(API_DIR, "node_modules/.bin/tsx");
const DURATION = Number(process.env.HOTPATH_BENCH_SECONDS ?? 5);
const ROUNDS = 3;
// Enough connections to keep the API process busy in every scenario, so req/s compares CPU cost per
// request; with 10, (b) spends part of the time waiting on its Redis round trip (reported separately).
const CONNECTIONS = 32;
const FEW_CONNECTIONS = 10;
const USERS = 100_000;

const log = (message: string) => process.stderr.write(`[bench api] ${message}\n`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function redisCli(port: number, ...args: string[]): string {
  const result = spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" });
  return result.stdout;
}

/**
 * Client-issued commands per request, sampled with MONITOR over `count` sequential requests
 * (commands run inside Lua scripts are marked "lua" by MONITOR and not counted; a pipeline's
 * commands are counted one by one, so this is an upper bound on round trips).
 */
async function sampleTopLevelCommands(
  port: number,
  count: number,
  send: () => Promise<void>,
): Promise<number> {
  const monitor = spawn("redis-cli", ["-p", String(port), "monitor"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  let text = "";
  monitor.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  await waitFor(() => text.startsWith("OK"), "MONITOR", 5000);
  for (let i = 0; i < count; i++) await send();
  await new Promise((resolve) => setTimeout(resolve, 300));
  monitor.kill("SIGTERM");
  const lines = text.split("\n").filter((line) => /^\d+\.\d+ \[\d+ [^\]]+\]/.test(line));
  const topLevel = lines.filter((line) => !/^\d+\.\d+ \[\d+ lua\]/.test(line));
  // Metric flushes (HINCRBY/ZINCRBY/EXPIRE on metrics keys) are batched, not per request.
  const perRequest = topLevel.filter((line) => !/:metrics:/.test(line));
  return perRequest.length / count;
}

/** Calls per command from INFO commandstats. */
function commandStats(port: number): Map<string, number> {
  const stats = new Map<string, number>();
  for (const line of redisCli(port, "INFO", "commandstats").split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match?.[1] && match[2]) stats.set(match[1], Number(match[2]));
  }
  return stats;
}

function delta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, calls] of after) {
    const diff = calls - (before.get(name) ?? 0);
    if (diff > 0 && name !== "info") out.set(name, diff);
  }
  return out;
}

async function main(): Promise<void> {
  const redisPort = await freePort();
  const redis: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      String(redisPort),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--loglevel",
      "warning",
    ],
    { stdio: "ignore" },
  );
  const dataDir = mkdtempSync(join(tmpdir(), "hotpath-bench-api-"));
  let api: ChildProcess | undefined;
  try {
    await waitFor(() => redisCli(redisPort, "PING").trim() === "PONG", "redis-server");
    log(`redis-server on ${redisPort}; preparing PGlite with ${USERS} users in ${dataDir}`);
    const db = await openPgliteDatabase({ dataDir: join(dataDir, "pglite") });
    await migrate(db);
    await seedDatabase(db, createPbkdf2Hasher({ iterations: 10_000 }));
    await db.query(
      `insert into users (username, display_name, password_hash)
       select 'bench_' || g, 'Bench user ' || g, 'x' from generate_series(1, $1) as g`,
      [USERS],
    );
    await db.close();

    const apiPort = await freePort();
    const lines: string[] = [];
    api = spawn(TSX, ["src/main.ts"], {
      cwd: API_DIR,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        NODE_ENV: "production",
        LOG_LEVEL: "error",
        PORT: String(apiPort),
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        DATA_DIR: dataDir,
        SEED: "false",
        // Limits far above the load so every request is measured on its allowed path.
        // Same algorithms as the shipped tiers (generous: fixed window, moderate: sliding window).
        RATE_LIMIT_POLICIES: JSON.stringify({
          generous: { limit: 1_000_000_000, window: "1m", algorithm: "fixedWindow" },
          moderate: { limit: 1_000_000_000, window: "1m", algorithm: "slidingWindow" },
        }),
      },
    });
    api.stdout?.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    api.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    await waitFor(() => lines.join("").includes("HOTPATH_API_READY"), "API");
    const url = `http://127.0.0.1:${apiPort}`;
    log(`API at ${url}`);

    const statusPath = `/trpc/streams.status?input=${encodeURIComponent(JSON.stringify({ username: "alice" }))}`;
    let nextId = 6;
    const scenarios: { key: string; name: string; requests: AutocannonRequest[] }[] = [
      {
        key: "a",
        name: "bare query (`health.ping`, no middleware)",
        requests: [{ path: "/trpc/health.ping" }],
      },
      {
        key: "b",
        name: "`streams.status` (rate limit + cache hit)",
        requests: [{ path: statusPath }],
      },
      {
        key: "c",
        name: "`users.byId` (cache miss → PostgreSQL/PGlite)",
        requests: [
          {
            setupRequest: (request) => {
              const id = nextId;
              nextId = nextId >= USERS ? 6 : nextId + 1;
              return {
                ...request,
                path: `/trpc/users.byId?input=${encodeURIComponent(JSON.stringify({ id }))}`,
              };
            },
          },
        ],
      },
    ];

    const results: {
      key: string;
      name: string;
      rps: number;
      p50: number;
      p99: number;
      non2xx: number;
      perRequest: number;
      topLevel: number;
      top: string;
    }[] = [];
    // Warm-up (fills the status cache, JIT-compiles every path).
    for (const scenario of scenarios) {
      await autocannon({ url, connections: CONNECTIONS, duration: 2, requests: scenario.requests });
    }
    // Interleaved rounds (a, b, c, a, b, c, …) so background load on a shared machine hits every
    // scenario alike; req/s is the median round, latencies are those of that round.
    const rounds = new Map<string, AutocannonResult[]>();
    const commandTotals = new Map<string, Map<string, number>>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of scenarios) {
        await new Promise((resolve) => setTimeout(resolve, 1100)); // previous metric flushes land
        const before = commandStats(redisPort);
        log(`round ${round}/${ROUNDS}: (${scenario.key}) ${scenario.name} for ${DURATION}s`);
        const result = await autocannon({
          url,
          connections: CONNECTIONS,
          duration: DURATION,
          requests: scenario.requests,
        });
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const totals = commandTotals.get(scenario.key) ?? new Map<string, number>();
        for (const [name, calls] of delta(before, commandStats(redisPort)))
          totals.set(name, (totals.get(name) ?? 0) + calls);
        commandTotals.set(scenario.key, totals);
        rounds.set(scenario.key, [...(rounds.get(scenario.key) ?? []), result]);
      }
    }
    // The same a/b pair with few connections: there (b) is bound by its Redis round-trip latency.
    const few: number[] = [];
    for (const scenario of scenarios.slice(0, 2)) {
      log(`few connections: (${scenario.key}) for ${DURATION}s`);
      few.push(
        (
          await autocannon({
            url,
            connections: FEW_CONNECTIONS,
            duration: DURATION,
            requests: scenario.requests,
          })
        ).requests.average,
      );
    }

    for (const scenario of scenarios) {
      const runs = [...(rounds.get(scenario.key) ?? [])].sort(
        (x, y) => x.requests.average - y.requests.average,
      );
      const median = runs[Math.floor(runs.length / 2)];
      if (!median) continue;
      const commands = commandTotals.get(scenario.key) ?? new Map<string, number>();
      const request = scenario.requests[0] ?? {};
      const topLevel = await sampleTopLevelCommands(redisPort, 200, async () => {
        const path = request.setupRequest
          ? request.setupRequest({ path: "" }).path
          : (request.path ?? "/");
        const response = await fetch(`${url}${path}`);
        await response.arrayBuffer();
      });
      const total = [...commands.values()].reduce((sum, n) => sum + n, 0);
      const requests = Math.max(
        1,
        runs.reduce((sum, run) => sum + run.requests.total, 0),
      );
      const top = [...commands.entries()]
        .sort((x, y) => y[1] - x[1])
        .slice(0, 4)
        .map(([name, calls]) => `${name} ${(calls / requests).toFixed(2)}`)
        .join(", ");
      results.push({
        key: scenario.key,
        name: scenario.name,
        rps: median.requests.average,
        p50: median.latency.p50,
        p99: median.latency.p99,
        non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
        perRequest: total / requests,
        topLevel,
        top: top || "none",
      });
    }

    const a = results.find((r) => r.key === "a");
    const b = results.find((r) => r.key === "b");
    const c = results.find((r) => r.key === "c");
    // Per-round ratios pair a and b measured seconds apart (robust to load drifting over the run).
    const roundRatios = (rounds.get("b") ?? []).map(
      (run, index) =>
        run.requests.average / Math.max(1, rounds.get("a")?.[index]?.requests.average ?? 0),
    );
    const ratio = [...roundRatios].sort((x, y) => x - y)[Math.floor(roundRatios.length / 2)] ?? 0;
    const out: string[] = [
      "## API",
      "",
      `autocannon ${CONNECTIONS} connections on loopback, ${ROUNDS} interleaved rounds × ${DURATION} s per scenario (median round shown), same run;`,
      "API = `tsx src/main.ts` (NODE_ENV=production, one process),",
      `Redis = own redis-server over TCP, database = embedded PGlite (folder, ${USERS.toLocaleString("en")} users).`,
      "Client cmds/req: commands the API sent per request, sampled with MONITOR over 200 sequential requests after the load run",
      "(excluding commands inside Lua scripts and the batched metric flushes; an upper bound on round trips since a pipeline's commands count one by one).",
      "All cmds/req: INFO commandstats delta over the load run / requests (includes commands run inside scripts and metric flushes).",
      "`streams.status` keeps a 1 s in-process L1 tier (invalidated over pub/sub) in front of the 10 s Redis entry.",
      "",
      "| scenario | req/s | p50 ms | p99 ms | non-2xx | client cmds/req (MONITOR) | all cmds/req (commandstats) | top commands per request |",
      "|---|---:|---:|---:|---:|---:|---:|---|",
      ...results.map(
        (r) =>
          `| (${r.key}) ${r.name} | ${Math.round(r.rps).toLocaleString("en")} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.topLevel.toFixed(2)} | ${r.perRequest.toFixed(2)} | ${r.top} |`,
      ),
      "",
      `Ratio b/a (rate limit + cache hit vs bare query), median of the per-round ratios: **${ratio.toFixed(2)}** (target ≥ 0.6;` +
        ` rounds: ${roundRatios.map((r) => r.toFixed(2)).join(", ")}; from the median rounds: ${a && b ? (b.rps / a.rps).toFixed(2) : "?"}).` +
        (c && a ? ` Ratio c/a (cache miss to PostgreSQL): ${(c.rps / a.rps).toFixed(2)}.` : ""),
      "",
      `With ${FEW_CONNECTIONS} connections (latency-bound for (b)): (a) ${Math.round(few[0] ?? 0).toLocaleString("en")} req/s,` +
        ` (b) ${Math.round(few[1] ?? 0).toLocaleString("en")} req/s, b/a ${((few[1] ?? 0) / Math.max(1, few[0] ?? 0)).toFixed(2)}.`,
      "",
    ];
    process.stdout.write(`${out.join("\n")}\n`);
  } finally {
    if (api && api.exitCode === null) {
      const exited = new Promise((resolve) => api?.once("exit", resolve));
      api.kill("SIGTERM");
      await exited;
    }
    redis.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main()
  .then(async () => {
    // Its own redis-server and in-process API, after the API process above has stopped.
    process.stdout.write(`${await outboxLatencySection()}\n`);
    process.stdout.write(`${await latencyCostSection()}\n`);
  })
  .catch((error: unknown) => {
    process.stderr.write(
      `[bench api] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
