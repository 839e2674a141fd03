import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { resolveTestRedis } from "@hotpath/testing";
import { Redis as UpstashRedis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { measure, type Measurement } from "./measure.ts";

// Gateway benchmark: the unmodified @upstash/redis SDK through the gateway (a separate process,
// so client and gateway each get a core) versus raw ioredis on the same Redis, plus
// redis-benchmark as the machine's physical limit. Prints one markdown section on stdout.

const DURATION_MS = Number(process.env.HOTPATH_BENCH_DURATION_MS ?? 5000);
const WARMUP_MS = 1000;
const CONCURRENCY = 32;
const PIPELINE = 64;
const PIPELINE_CONCURRENCY = 8;
const log = (line: string) => process.stderr.write(`[bench gateway] ${line}\n`);

async function startGatewayProcess(redisUrl: string): Promise<{ url: string; token: string; child: ChildProcess }> {
  const token = randomBytes(24).toString("base64url");
  const bin = fileURLToPath(new URL("../bin/hotpath-gateway.mjs", import.meta.url));
  const child = spawn(process.execPath, [bin, "--redis", redisUrl, "--port", "0", "--token", token], {
    stdio: ["ignore", "pipe", "inherit"],
  });
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

async function commandCalls(redis: IORedis): Promise<number> {
  const info = await redis.info("commandstats");
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  return total;
}

interface Row {
  readonly m: Measurement;
  readonly commandsPerOp: number;
}

async function counted(admin: IORedis, run: () => Promise<Measurement>): Promise<Row> {
  const before = await commandCalls(admin);
  const m = await run();
  const after = await commandCalls(admin);
  // Calls from the warm-up are included: divide by every op issued (approximation noted below).
  return { m, commandsPerOp: (after - before - 1) / ((m.calls * m.opsPerSecond) / m.callsPerSecond || 1) };
}

function redisBenchmark(url: string, pipeline: number): string {
  const { hostname, port } = new URL(url);
  const result = spawnSync("redis-benchmark", ["-h", hostname, "-p", port || "6379", "-q", "-t", "get,set", "-n", "100000", "-P", String(pipeline)], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (result.error) return `not available (${result.error.message})`;
  return result.stdout
    .split(/\r/)
    .map((line) => line.trim())
    .filter((line) => /requests per second/.test(line))
    .join("; ")
    .replace(/\n/g, "; ");
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => n.toFixed(2);

async function main(): Promise<void> {
  const redis = await resolveTestRedis();
  const gateway = await startGatewayProcess(redis.url);
  log(`gateway ${gateway.url} (pid ${String(gateway.child.pid)})`);
  const admin = new IORedis(redis.url, { lazyConnect: false });
  const raw = new IORedis(redis.url, { enableAutoPipelining: false });
  const sdk = new UpstashRedis({ url: gateway.url, token: gateway.token, enableAutoPipelining: false, enableTelemetry: false });
  const prefix = `bench:gateway:${randomBytes(4).toString("hex")}`;
  const keys = Array.from({ length: 1000 }, (_, i) => `${prefix}:${i}`);
  const key = (i: number) => keys[i % keys.length] as string;
  await raw.mset(...keys.flatMap((k) => [k, "value-0123456789"]));

  const single = { concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS, opsPerCall: 1 };
  const piped = { concurrency: PIPELINE_CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS, opsPerCall: PIPELINE };
  const rows: Record<string, Row> = {};
  try {
    rows.rawGet = await counted(admin, () => measure("ioredis GET", single, (i) => raw.get(key(i))));
    rows.sdkGet = await counted(admin, () => measure("gateway GET", single, (i) => sdk.get(key(i))));
    rows.rawSet = await counted(admin, () => measure("ioredis SET", single, (i) => raw.set(key(i), "value-0123456789")));
    rows.sdkSet = await counted(admin, () => measure("gateway SET", single, (i) => sdk.set(key(i), "value-0123456789")));
    rows.rawPipe = await counted(admin, () =>
      measure("ioredis pipeline", piped, (i) => {
        const p = raw.pipeline();
        for (let j = 0; j < PIPELINE; j += 1) {
          if (j % 2 === 0) p.get(key(i * PIPELINE + j));
          else p.set(key(i * PIPELINE + j), "value-0123456789");
        }
        return p.exec();
      }),
    );
    rows.sdkPipe = await counted(admin, () =>
      measure("gateway pipeline", piped, (i) => {
        const p = sdk.pipeline();
        for (let j = 0; j < PIPELINE; j += 1) {
          if (j % 2 === 0) p.get(key(i * PIPELINE + j));
          else p.set(key(i * PIPELINE + j), "value-0123456789");
        }
        return p.exec();
      }),
    );
  } finally {
    await raw.del(...keys);
    raw.disconnect();
    admin.disconnect();
    gateway.child.kill("SIGTERM");
    await redis.server?.stop();
  }
  const benchSingle = redisBenchmark(redis.url, 1);
  const benchPiped = redisBenchmark(redis.url, 16);

  const r = rows as Required<Record<"rawGet" | "sdkGet" | "rawSet" | "sdkSet" | "rawPipe" | "sdkPipe", Row>>;
  const line = (label: string, row: Row, peer: Row | undefined) =>
    `| ${label} | ${fmt(row.m.opsPerSecond)} | ${fmt(row.m.callsPerSecond)} | ${ms(row.m.p50)} | ${ms(row.m.p99)} | ${row.commandsPerOp.toFixed(2)} | ${peer ? (row.m.opsPerSecond / peer.m.opsPerSecond).toFixed(2) : "1.00"} |`;
  const out = [
    "## Gateway",
    "",
    `Loopback, ${String(redis.url.replace(/\/\/[^@]*@/, "//"))}, gateway in its own process (node:http), client = the unmodified \`@upstash/redis\` SDK (auto-pipelining off) with ${CONCURRENCY} requests in flight for single commands and ${PIPELINE_CONCURRENCY} in flight for ${PIPELINE}-command pipelines (half GET, half SET); peer (a) = raw ioredis on the same Redis at the same concurrency. ${DURATION_MS / 1000} s per row after 1 s warm-up. "cmds/op" = Redis commands per operation from \`INFO commandstats\` deltas (warm-up included, so ≈1.0 means one Redis command per SDK call).`,
    "",
    "| scenario | ops/s | requests/s | p50 ms | p99 ms | cmds/op | c/a |",
    "|---|---:|---:|---:|---:|---:|---:|",
    line("(a) ioredis GET", r.rawGet, undefined),
    line("(c) SDK → gateway GET", r.sdkGet, r.rawGet),
    line("(a) ioredis SET", r.rawSet, undefined),
    line("(c) SDK → gateway SET", r.sdkSet, r.rawSet),
    line(`(a) ioredis ${PIPELINE}-cmd pipeline`, r.rawPipe, undefined),
    line(`(c) SDK → gateway ${PIPELINE}-cmd pipeline`, r.sdkPipe, r.rawPipe),
    "",
    `Targets: ≥ 15,000 single-command requests/s (measured GET ${fmt(r.sdkGet.m.callsPerSecond)}, SET ${fmt(r.sdkSet.m.callsPerSecond)}) and ≥ 300,000 ops/s in ${PIPELINE}-command pipelines (measured ${fmt(r.sdkPipe.m.opsPerSecond)}).`,
    "",
    `Redis physical limit (\`redis-benchmark -q -t get,set -n 100000\`, same machine): ${benchSingle}; with \`-P 16\`: ${benchPiped}.`,
    "",
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench gateway] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
