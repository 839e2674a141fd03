import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  TS_ENTRY_ARGS,
  resolveTestRedis,
  startRedisServer,
  type RedisServerHandle,
} from "@hotpath/testing";
import { Client, Receiver } from "@upstash/qstash";
import autocannon from "autocannon";
import { Queue, Worker } from "bullmq";
import { Redis as IORedis } from "ioredis";
import { DEV_CREDENTIALS } from "../src/index.ts";

// QStash server benchmark. The QStash server and the gateway run in their own processes (as in
// production); the SDK client, autocannon, the destination and raw BullMQ run here:
//   publish requests/s: the @upstash/qstash SDK and autocannon (the SDK's exact request), against
//     the gateway's single-command requests/s (autocannon GET) in the same run;
//   publish → verified delivery latency at delay 0 (one message at a time);
//   sustained deliveries/s through a queue with parallelism 10, against raw BullMQ
//     (Queue.add → Worker, concurrency 10) on the same Redis.
// One markdown section on stdout, progress on stderr.

const DURATION_MS = Number(process.env.HOTPATH_BENCH_DURATION_MS ?? 5000);
const WARMUP_MS = 1000;
const CONCURRENCY = 32;
const LATENCY_SAMPLES = 300;
const THROUGHPUT_MESSAGES = 3000;
const PARALLELISM = 10;
const log = (line: string) => process.stderr.write(`[bench qstash] ${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => n.toFixed(2);

interface ChildServer {
  url: string;
  child: ChildProcess;
}

async function startChild(bin: string, args: string[], pattern: RegExp): Promise<ChildServer> {
  const path = fileURLToPath(new URL(bin, import.meta.url));
  const child = spawn(process.execPath, [...TS_ENTRY_ARGS, path, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${bin} did not start within 20 s`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`${bin} exited with ${String(code)}`)));
  });
  return { url, child };
}

/** A destination that verifies every delivery with Receiver and reports it by message id. */
async function startDestination(onDelivery: (messageId: string) => void) {
  const receiver = new Receiver({
    currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
    nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
  });
  let url = "";
  let rejected = 0;
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const ok = await receiver
      .verify({
        signature: String(request.headers["upstash-signature"]),
        body,
        url: `${url}${request.url ?? ""}`,
      })
      .catch(() => false);
    response.writeHead(ok ? 200 : 401).end();
    if (ok) onDelivery(String(request.headers["upstash-message-id"]));
    else rejected += 1;
  };
  const server = createServer((request, response) => void handle(request, response));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    rejected: () => rejected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Calls per second from `concurrency` loops over `durationMs` (after a warm-up). */
async function loop(concurrency: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const run = async (duration: number) => {
    const end = performance.now() + duration;
    let calls = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        let i = worker;
        while (performance.now() < end) {
          await call(i);
          calls += 1;
          i += concurrency;
        }
      }),
    );
    return calls;
  };
  await run(WARMUP_MS);
  const started = performance.now();
  const calls = await run(DURATION_MS);
  return calls / ((performance.now() - started) / 1000);
}

async function cannon(url: string, headers: Record<string, string>, body: string) {
  const options = { url, method: "POST" as const, headers, body, connections: CONCURRENCY };
  await autocannon({ ...options, duration: WARMUP_MS / 1000 });
  const result = await autocannon({ ...options, duration: DURATION_MS / 1000 });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return {
    rps: result.requests.total / (DURATION_MS / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

async function benchRedis(): Promise<{ url: string; server?: RedisServerHandle; own: boolean }> {
  try {
    const server = await startRedisServer();
    return { url: server.url, server, own: true };
  } catch (error) {
    log(`no own redis-server (${(error as Error).message}), using the test Redis`);
    return { ...(await resolveTestRedis()), own: false };
  }
}

/** Deliveries/s of raw BullMQ: addBulk to a paused queue, then a Worker (concurrency 10) drains it. */
async function rawBullmq(redisUrl: string, prefix: string): Promise<number> {
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue("raw", { connection, prefix });
  await queue.pause();
  for (let i = 0; i < THROUGHPUT_MESSAGES; i += 500) {
    await queue.addBulk(
      Array.from({ length: Math.min(500, THROUGHPUT_MESSAGES - i) }, (_, j) => ({
        name: "job",
        data: { i: i + j, body: { hello: "world" } },
        opts: { removeOnComplete: true, attempts: 4 },
      })),
    );
  }
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const worker = new Worker(
    "raw",
    async () => {
      done += 1;
      if (done === THROUGHPUT_MESSAGES) finished();
      return Promise.resolve();
    },
    { connection: workerConnection, prefix, concurrency: PARALLELISM },
  );
  const started = performance.now();
  await queue.resume();
  await all;
  const rate = THROUGHPUT_MESSAGES / ((performance.now() - started) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  return rate;
}

async function main(): Promise<void> {
  const loadAverage = loadavg()[0] ?? 0;
  const redis = await benchRedis();
  const prefix = `bench-qstash-${randomBytes(4).toString("hex")}`;
  const qstash = await startChild(
    "../src/cli.ts",
    ["--redis", redis.url, "--port", "0", "--prefix", prefix],
    /running at (\S+)/,
  );
  const gatewayToken = randomBytes(24).toString("base64url");
  const gateway = await startChild(
    "../../gateway/src/cli.ts",
    ["--redis", redis.url, "--port", "0", "--token", gatewayToken],
    /listening on (\S+)/,
  );
  log(`qstash ${qstash.url}, gateway ${gateway.url}`);
  const arrivals = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const destination = await startDestination((id) => {
    arrivals.set(id, performance.now());
    waiters.get(id)?.();
  });
  const client = new Client({
    baseUrl: qstash.url,
    token: DEV_CREDENTIALS.token,
    enableTelemetry: false,
  });
  try {
    // 1. Publish requests/s (delayed an hour, so deliveries do not compete for the CPU).
    log("publish through the SDK");
    const sdkRps = await loop(CONCURRENCY, (i) =>
      client.publishJSON({
        url: `${destination.url}/p/${i}`,
        body: { hello: "world", i },
        delay: 3600,
      }),
    );
    log("publish through autocannon");
    const publishCannon = await cannon(
      `${qstash.url}/v2/publish/${destination.url}/p/cannon`,
      {
        authorization: `Bearer ${DEV_CREDENTIALS.token}`,
        "content-type": "application/json",
        "upstash-method": "POST",
        "upstash-delay": "3600s",
      },
      JSON.stringify({ hello: "world", i: 1 }),
    );
    log("gateway single command through autocannon");
    const gatewayCannon = await cannon(
      gateway.url,
      {
        authorization: `Bearer ${gatewayToken}`,
        "content-type": "application/json",
        "upstash-encoding": "base64",
        "upstash-telemetry-sdk": "@upstash/redis@v1.39.0",
      },
      JSON.stringify(["get", "bench-qstash-key"]),
    );
    await client.messages.cancel({ all: true, count: 1_000_000 });

    // 2. Publish → verified delivery latency, one at a time, delay 0.
    log("publish → verified delivery latency");
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES + 20; i++) {
      const started = performance.now();
      let arrived: () => void = () => undefined;
      const delivered = new Promise<void>((resolve) => (arrived = resolve));
      const { messageId } = await client.publishJSON({
        url: `${destination.url}/l/${i}`,
        body: { i },
      });
      if (arrivals.has(messageId)) arrived();
      else waiters.set(messageId, arrived);
      await delivered;
      waiters.delete(messageId);
      if (i >= 20) latencies.push((arrivals.get(messageId) ?? started) - started);
    }

    // 3. Sustained deliveries/s through a queue with parallelism 10 (paused while filled).
    log(`deliveries/s, ${THROUGHPUT_MESSAGES} messages, parallelism ${PARALLELISM}`);
    const queue = client.queue({ queueName: "bench" });
    await queue.upsert({ parallelism: PARALLELISM, paused: true });
    const ids = new Set<string>();
    for (let i = 0; i < THROUGHPUT_MESSAGES; i += 100) {
      const results = await client.batchJSON(
        Array.from({ length: Math.min(100, THROUGHPUT_MESSAGES - i) }, (_, j) => ({
          queueName: "bench",
          url: `${destination.url}/t/${i + j}`,
          body: { hello: "world" },
        })),
      );
      for (const result of results) ids.add((result as { messageId: string }).messageId);
    }
    let remaining = ids.size;
    let drained: () => void = () => undefined;
    const allDelivered = new Promise<void>((resolve) => (drained = resolve));
    for (const id of ids) {
      waiters.set(id, () => {
        remaining -= 1;
        if (remaining === 0) drained();
      });
    }
    const started = performance.now();
    await queue.resume();
    await allDelivered;
    const deliveriesPerSecond = ids.size / ((performance.now() - started) / 1000);
    log("raw BullMQ");
    const rawRate = await rawBullmq(redis.url, `${prefix}-raw`);

    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const out = [
      "## QStash server",
      "",
      `Loopback on this machine: ${String(cpus().length)} cores shared by Redis, the QStash server, the gateway, the destination and the clients (1-minute load average ${loadAverage.toFixed(1)} when the run started). ${redis.own ? "A redis-server started for this run" : "The shared test Redis"}. The QStash server and the gateway run in their own processes; the destination (node:http on 127.0.0.1) verifies every delivery with the SDK's \`Receiver\` (${String(destination.rejected())} rejected). ${DURATION_MS / 1000} s per throughput row after a ${WARMUP_MS / 1000} s warm-up, ${CONCURRENCY} requests in flight.`,
      "",
      "| scenario | figure | vs peer |",
      "|---|---:|---:|",
      `| publish through the \`@upstash/qstash\` 2.12 SDK (delay 1 h) | ${fmt(sdkRps)} req/s | ${(sdkRps / gatewayCannon.rps).toFixed(2)} × gateway |`,
      `| publish with autocannon (the SDK's request) | ${fmt(publishCannon.rps)} req/s (p50 ${publishCannon.p50} ms, p99 ${publishCannon.p99} ms) | ${(publishCannon.rps / gatewayCannon.rps).toFixed(2)} × gateway |`,
      `| gateway single command (autocannon GET), same run | ${fmt(gatewayCannon.rps)} req/s | 1 |`,
      `| publish → verified delivery, delay 0, one at a time (${LATENCY_SAMPLES} samples) | p50 ${ms(p50)} ms, p99 ${ms(p99)} ms | |`,
      `| deliveries/s, queue parallelism ${PARALLELISM}, ${THROUGHPUT_MESSAGES} messages (HTTP + signature + verify) | ${fmt(deliveriesPerSecond)} /s | ${(deliveriesPerSecond / rawRate).toFixed(2)} × raw BullMQ |`,
      `| raw BullMQ 6.7 (Queue.addBulk → Worker, concurrency ${PARALLELISM}, no-op), same run | ${fmt(rawRate)} jobs/s | 1 |`,
      "",
      `Targets: publish → delivery p50 ≤ 10 ms on loopback: measured ${ms(p50)} ms. Deliveries/s ≥ 0.5 × raw BullMQ: measured ${(deliveriesPerSecond / rawRate).toFixed(2)} ×.`,
      "",
    ];
    process.stdout.write(`${out.join("\n")}\n`);
  } finally {
    qstash.child.kill("SIGTERM");
    gateway.child.kill("SIGTERM");
    await destination.close();
    await redis.server?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[bench qstash] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
