import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import {
  TS_ENTRY_ARGS,
  resolveTestRedis,
  startRedisServer,
  type RedisServerHandle,
} from "@hotpath/testing";
import { Redis as UpstashRedis } from "@upstash/redis";
import autocannon from "autocannon";
import { Redis as IORedis } from "ioredis";
import { measure, type Measurement } from "./measure.ts";

// Gateway benchmark. The gateway runs in its own process (so it gets a core of its own, as in
// production); the clients run here:
//   (a) raw ioredis on the same Redis,
//   (c) the unmodified @upstash/redis SDK through the gateway (auto-pipelining off),
//   (c') autocannon sending byte-for-byte the SDK's request through the gateway: the gateway's
//        own capacity once the client's fetch cost is out of the way.
// redis-benchmark gives the physical limit. One markdown section on stdout, progress on stderr.

const DURATION_MS = Number(process.env.HOTPATH_BENCH_DURATION_MS ?? 5000);
const WARMUP_MS = 1000;
const CONCURRENCY = 32;
const PIPELINE = 64;
const PIPELINE_CONCURRENCY = 8;
const VALUE = "value-0123456789";
const log = (line: string) => process.stderr.write(`[bench gateway] ${line}\n`);

interface GatewayProcess {
  url: string;
  token: string;
  child: ChildProcess;
}

async function startGatewayProcess(redisUrl: string): Promise<GatewayProcess> {
  const token = randomBytes(24).toString("base64url");
  const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    [...TS_ENTRY_ARGS, cli, "--redis", redisUrl, "--port", "0", "--token", token],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("gateway did not start within 20 s")), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`gateway exited with ${String(code)}`)));
  });
  return { url, token, child };
}

/** CPU seconds used so far by a process (Linux /proc), or undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS =
  Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

async function commandCalls(redis: IORedis): Promise<number> {
  const info = await redis.info("commandstats");
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    // The INFO call itself is not the benchmark's.
    if (match[1] !== "info") total += Number(match[2]);
  }
  return total;
}

interface Row {
  readonly label: string;
  readonly m: Measurement;
  readonly commandsPerOp: number;
  /** Gateway CPU per request, µs (undefined when the gateway is not involved). */
  readonly gatewayMicrosPerRequest: number | undefined;
}

async function row(
  label: string,
  admin: IORedis,
  gatewayPid: number | undefined,
  opsPerCall: number,
  run: () => Promise<Measurement>,
): Promise<Row> {
  const before = await commandCalls(admin);
  const cpuBefore = cpuSeconds(gatewayPid);
  const m = await run();
  const cpuAfter = cpuSeconds(gatewayPid);
  const after = await commandCalls(admin);
  const gatewayMicrosPerRequest =
    cpuBefore === undefined || cpuAfter === undefined
      ? undefined
      : ((cpuAfter - cpuBefore) * 1e6) / m.totalCalls;
  return {
    label,
    m,
    commandsPerOp: (after - before) / (m.totalCalls * opsPerCall),
    gatewayMicrosPerRequest,
  };
}

/** autocannon against the gateway with the SDK's exact headers and body. */
async function cannon(
  name: string,
  url: string,
  token: string,
  body: string,
  connections: number,
): Promise<Measurement> {
  const options = {
    url,
    method: "POST" as const,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      "upstash-encoding": "base64",
      "upstash-sync-token": "",
      "upstash-telemetry-sdk": "@upstash/redis@v1.39.0",
    },
    body,
    connections,
  };
  const warm = await autocannon({ ...options, duration: WARMUP_MS / 1000 });
  const cpuBefore = process.cpuUsage();
  const result = await autocannon({ ...options, duration: DURATION_MS / 1000 });
  const cpu = process.cpuUsage(cpuBefore);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  const opsPerCall = body.startsWith("[[") ? PIPELINE : 1;
  const seconds = DURATION_MS / 1000;
  const measurement: Measurement = {
    name,
    calls: result.requests.total,
    totalCalls: result.requests.total + warm.requests.total,
    callsPerSecond: result.requests.total / seconds,
    opsPerSecond: (result.requests.total * opsPerCall) / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    clientMicrosPerCall: (cpu.user + cpu.system) / Math.max(1, result.requests.total),
  };
  log(`${name}: ${Math.round(measurement.opsPerSecond)} ops/s p50 ${measurement.p50} ms`);
  return measurement;
}

function redisBenchmark(url: string, pipeline: number): string {
  const { hostname, port } = new URL(url);
  const args = [
    "-h",
    hostname,
    "-p",
    port || "6379",
    "-q",
    "-t",
    "get,set",
    "-n",
    "100000",
    "-P",
    String(pipeline),
  ];
  const result = spawnSync("redis-benchmark", args, { encoding: "utf8", timeout: 60_000 });
  if (result.error) return `redis-benchmark not available (${result.error.message})`;
  const figures = [...result.stdout.matchAll(/(GET|SET): ([\d.]+) requests per second/g)].map(
    ([, name, rps]) => `${name} ${fmt(Number(rps))}/s`,
  );
  return figures.length > 0
    ? figures.join(", ")
    : `no figures (${result.stderr.trim() || result.stdout.trim()})`;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

function pipelineCommands(i: number, key: (i: number) => string): string[][] {
  return Array.from({ length: PIPELINE }, (_, j) =>
    j % 2 === 0 ? ["get", key(i * PIPELINE + j)] : ["set", key(i * PIPELINE + j), VALUE],
  );
}

/**
 * The Redis to measure on: an own redis-server (so INFO commandstats only counts this run), else
 * the test Redis (REDIS_URL / 127.0.0.1:6379).
 */
async function benchRedis(): Promise<{ url: string; server?: RedisServerHandle; own: boolean }> {
  try {
    const server = await startRedisServer();
    return { url: server.url, server, own: true };
  } catch (error) {
    log(
      `no own redis-server (${error instanceof Error ? error.message : String(error)}), using the test Redis`,
    );
    return { ...(await resolveTestRedis()), own: false };
  }
}

async function main(): Promise<void> {
  const loadAverage = loadavg()[0] ?? 0;
  const redis = await benchRedis();
  const gateway = await startGatewayProcess(redis.url);
  const pid = gateway.child.pid;
  log(`gateway ${gateway.url} (pid ${String(pid)})`);
  const admin = new IORedis(redis.url);
  const raw = new IORedis(redis.url, { enableAutoPipelining: false });
  const sdk = new UpstashRedis({
    url: gateway.url,
    token: gateway.token,
    enableAutoPipelining: false,
    enableTelemetry: false,
  });
  const prefix = `bench:gateway:${randomBytes(4).toString("hex")}`;
  const keys = Array.from({ length: 1024 }, (_, i) => `${prefix}:${i}`);
  const key = (i: number) => keys[i % keys.length] as string;
  await raw.mset(...keys.flatMap((k) => [k, VALUE]));

  const single = {
    concurrency: CONCURRENCY,
    durationMs: DURATION_MS,
    warmupMs: WARMUP_MS,
    opsPerCall: 1,
  };
  const piped = {
    concurrency: PIPELINE_CONCURRENCY,
    durationMs: DURATION_MS,
    warmupMs: WARMUP_MS,
    opsPerCall: PIPELINE,
  };
  const rows: Row[] = [];
  try {
    rows.push(
      await row("(a) ioredis GET", admin, undefined, 1, () =>
        measure("ioredis GET", single, (i) => raw.get(key(i))),
      ),
    );
    rows.push(
      await row("(c) SDK → gateway GET", admin, pid, 1, () =>
        measure("SDK GET", single, (i) => sdk.get(key(i))),
      ),
    );
    rows.push(
      await row("(c') autocannon → gateway GET", admin, pid, 1, () =>
        cannon(
          "autocannon GET",
          gateway.url,
          gateway.token,
          JSON.stringify(["get", key(7)]),
          CONCURRENCY,
        ),
      ),
    );
    rows.push(
      await row("(a) ioredis SET", admin, undefined, 1, () =>
        measure("ioredis SET", single, (i) => raw.set(key(i), VALUE)),
      ),
    );
    rows.push(
      await row("(c) SDK → gateway SET", admin, pid, 1, () =>
        measure("SDK SET", single, (i) => sdk.set(key(i), VALUE)),
      ),
    );
    rows.push(
      await row("(c') autocannon → gateway SET", admin, pid, 1, () =>
        cannon(
          "autocannon SET",
          gateway.url,
          gateway.token,
          JSON.stringify(["set", key(7), VALUE]),
          CONCURRENCY,
        ),
      ),
    );
    rows.push(
      await row(`(a) ioredis ${PIPELINE}-cmd pipeline`, admin, undefined, PIPELINE, () =>
        measure("ioredis pipeline", piped, (i) => {
          const p = raw.pipeline();
          for (const [name, ...args] of pipelineCommands(i, key)) p.call(name as string, ...args);
          return p.exec();
        }),
      ),
    );
    rows.push(
      await row(`(c) SDK → gateway ${PIPELINE}-cmd pipeline`, admin, pid, PIPELINE, () =>
        measure("SDK pipeline", piped, (i) => {
          const p = sdk.pipeline();
          for (const [name, k = "", v] of pipelineCommands(i, key)) {
            if (name === "get") p.get(k);
            else p.set(k, v);
          }
          return p.exec();
        }),
      ),
    );
    rows.push(
      await row(`(c') autocannon → gateway ${PIPELINE}-cmd pipeline`, admin, pid, PIPELINE, () =>
        cannon(
          "autocannon pipeline",
          `${gateway.url}/pipeline`,
          gateway.token,
          JSON.stringify(pipelineCommands(3, key)),
          PIPELINE_CONCURRENCY,
        ),
      ),
    );
  } finally {
    await raw.del(...keys);
    raw.disconnect();
    admin.disconnect();
    gateway.child.kill("SIGTERM");
  }
  log("redis-benchmark");
  const benchSingle = redisBenchmark(redis.url, 1);
  const benchPiped = redisBenchmark(redis.url, 16);
  await redis.server?.stop();

  const byLabel = (prefixText: string) => rows.find((r) => r.label.startsWith(prefixText));
  const peerOf = (r: Row) =>
    r.label.startsWith("(a)")
      ? undefined
      : byLabel(`(a) ioredis ${r.label.split("gateway ")[1] ?? ""}`);
  const capacity = (r: Row) =>
    r.gatewayMicrosPerRequest === undefined || r.gatewayMicrosPerRequest <= 0
      ? undefined
      : (1e6 / r.gatewayMicrosPerRequest) * (r.m.opsPerSecond / r.m.callsPerSecond);
  const lines = rows.map((r) => {
    const peer = peerOf(r);
    const gatewayCpu =
      r.gatewayMicrosPerRequest === undefined ? "–" : fmt(r.gatewayMicrosPerRequest);
    const perCore = capacity(r);
    const ratio = peer ? (r.m.opsPerSecond / peer.m.opsPerSecond).toFixed(2) : "1";
    return `| ${r.label} | ${fmt(r.m.opsPerSecond)} | ${fmt(r.m.callsPerSecond)} | ${ms(r.m.p50)} | ${ms(r.m.p99)} | ${r.commandsPerOp.toFixed(2)} | ${fmt(r.m.clientMicrosPerCall)} | ${gatewayCpu} | ${perCore === undefined ? "–" : fmt(perCore)} | ${ratio} |`;
  });
  const get = (label: string) => rows.find((r) => r.label === label);
  const sdkGet = get("(c) SDK → gateway GET");
  const sdkPipe = get(`(c) SDK → gateway ${PIPELINE}-cmd pipeline`);
  const canGet = get("(c') autocannon → gateway GET");
  const canSet = get("(c') autocannon → gateway SET");
  const canPipe = get(`(c') autocannon → gateway ${PIPELINE}-cmd pipeline`);
  const perCore = (r: Row | undefined) => fmt((r && capacity(r)) ?? 0);
  const out = [
    "## Gateway",
    "",
    `Loopback on this machine: ${String(cpus().length)} cores shared by Redis, the gateway and the client (1-minute load average ${loadAverage.toFixed(1)} when the run started; other work on the machine lowers every absolute figure). ${redis.own ? "A redis-server started for this run" : "The shared test Redis (command counts then include other clients)"}. The gateway (node:http) runs in its own process; ${CONCURRENCY} requests in flight for single commands, ${PIPELINE_CONCURRENCY} for ${PIPELINE}-command pipelines (half GET, half SET). (a) raw ioredis on the same Redis; (c) the unmodified \`@upstash/redis\` 1.39 SDK, auto-pipelining off; (c') autocannon sending byte-for-byte the SDK's request (headers and JSON body), which loads the gateway without the SDK's client cost. ${DURATION_MS / 1000} s per row after a ${WARMUP_MS / 1000} s warm-up. "Redis cmds/op" from \`INFO commandstats\` deltas. "client / gateway CPU" = CPU time per request of the client process / the gateway process (/proc); "gateway ops/s per core" = what one fully busy gateway core sustains at that cost.`,
    "",
    "| scenario | ops/s | requests/s | p50 ms | p99 ms | Redis cmds/op | client CPU µs/req | gateway CPU µs/req | gateway ops/s per core | vs (a) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...lines,
    "",
    `Targets: ≥ 15,000 single-command requests/s: measured ${fmt(canGet?.m.callsPerSecond ?? 0)} GET / ${fmt(canSet?.m.callsPerSecond ?? 0)} SET through the gateway with autocannon (${perCore(canGet)} / ${perCore(canSet)} per gateway core), ${fmt(sdkGet?.m.callsPerSecond ?? 0)} GET with one SDK client process. ≥ 300,000 ops/s in ${PIPELINE}-command pipelines: measured ${fmt(canPipe?.m.opsPerSecond ?? 0)} with autocannon (${perCore(canPipe)} per gateway core), ${fmt(sdkPipe?.m.opsPerSecond ?? 0)} with one SDK client process. The SDK rows are bound by the client, not the gateway: one SDK request costs the client ${fmt(sdkGet?.m.clientMicrosPerCall ?? 0)} µs of CPU (Node 20's \`fetch\` plus the SDK's decoding) against ${fmt(sdkGet?.gatewayMicrosPerRequest ?? 0)} µs in the gateway, so on a 2-core machine the SDK cannot issue 15,000 requests/s whatever serves them.`,
    "",
    `Redis physical limit (redis-benchmark, same machine, \`-q -t get,set -n 100000\`): ${benchSingle}; with \`-P 16\`: ${benchPiped}.`,
    "",
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[bench gateway] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
