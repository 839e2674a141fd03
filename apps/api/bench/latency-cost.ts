/**
 * Cost of latency histograms and tracing on `streams.status` (`tsx bench/latency-cost.ts`, also a
 * section of `pnpm bench api`): two in-process APIs on one redis-server started here, one with
 * `LATENCY_HISTOGRAMS=false` and no tracer provider, one with histograms on and the OpenTelemetry
 * SDK registered (AsyncLocalStorage context manager, every span recorded). Short interleaved
 * rounds of concurrent calls through the fetch handler; the ratio is on / off req/s, median of the
 * per-round ratios (target >= 0.95).
 */
import { pathToFileURL } from "node:url";
import { createRedis } from "@hotpath/redis";
import { startRedisServer } from "@hotpath/testing";
import { recordSpans, type SpanRecorder } from "@hotpath/testing/tracing";
import { openPgliteDatabase } from "../src/db/pglite.ts";
import { createRuntime, type ApiRuntime } from "../src/deps.ts";
import { loadEnv } from "../src/env.ts";
import { createFetchHandler, type FetchHandler } from "../src/http/handler.ts";
import { createMemoryLogger } from "../src/logger.ts";

const ROUNDS = Number(process.env.HOTPATH_BENCH_ROUNDS ?? 20);
const ROUND_MS = 1000;
const CONCURRENCY = 16;
const STATUS = `http://bench.local/trpc/streams.status?input=${encodeURIComponent(JSON.stringify({ username: "alice" }))}`;

const log = (message: string) => process.stderr.write(`[bench latency-cost] ${message}\n`);

/** Calls completed by `CONCURRENCY` loops within `ROUND_MS`. */
async function round(handler: FetchHandler): Promise<number> {
  const until = performance.now() + ROUND_MS;
  let done = 0;
  const loop = async () => {
    while (performance.now() < until) {
      const response = await handler(new Request(STATUS), { peerIp: "127.0.0.1" });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`streams.status answered ${response.status}`);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return done / (ROUND_MS / 1000);
}

const median = (values: number[]) =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;

/** Runs the benchmark and returns its markdown section. */
export async function latencyCostSection(): Promise<string> {
  const server = await startRedisServer();
  const redis = createRedis({ url: `redis://127.0.0.1:${server.port}` });
  const runtimes: ApiRuntime[] = [];
  let spans: SpanRecorder | undefined;
  try {
    const open = async (histograms: "true" | "false") => {
      const runtime = await createRuntime({
        env: loadEnv({
          NODE_ENV: "production",
          HOTPATH_APP: `bench-latency-${histograms}`,
          PASSWORD_ITERATIONS: "10000",
          LATENCY_HISTOGRAMS: histograms,
        }),
        redis,
        db: await openPgliteDatabase(),
        logger: createMemoryLogger(),
        seed: true,
        rateLimitPolicies: { generous: "1000000000/1m" },
      });
      runtimes.push(runtime);
      return createFetchHandler({ deps: runtime.deps, waitUntil: runtime.waitUntil });
    };
    const handlers = { off: await open("false"), on: await open("true") };
    const tracing = (on: boolean) => {
      if (on && !spans) spans = recordSpans();
      if (!on && spans) {
        const stopping = spans.stop();
        spans = undefined;
        return stopping;
      }
      spans?.reset();
      return Promise.resolve();
    };
    for (const mode of ["off", "on"] as const) {
      await tracing(mode === "on");
      await round(handlers[mode]);
    }
    const rps = { off: [] as number[], on: [] as number[] };
    const ratios: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const order = i % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
      for (const mode of order) {
        await tracing(mode === "on");
        rps[mode].push(await round(handlers[mode]));
      }
      ratios.push((rps.on.at(-1) ?? 0) / Math.max(1, rps.off.at(-1) ?? 0));
      if (i % 5 === 0) log(`round ${i}/${ROUNDS}`);
    }
    await tracing(false);
    return [
      "## API: cost of latency histograms and tracing",
      "",
      `\`streams.status\` (rate limit + cache hit) through the fetch handler in-process, ${CONCURRENCY} concurrent loops,`,
      `${ROUNDS} interleaved rounds of ${ROUND_MS} ms per mode, same run, own redis-server.`,
      "off = `LATENCY_HISTOGRAMS=false`, no tracer provider; on = histograms + OpenTelemetry SDK registered (AsyncLocalStorage context manager, in-memory exporter, every span recorded).",
      "",
      "| mode | req/s (median round) |",
      "|---|---:|",
      `| off | ${Math.round(median(rps.off)).toLocaleString("en")} |`,
      `| on | ${Math.round(median(rps.on)).toLocaleString("en")} |`,
      "",
      `Ratio on/off, median of the per-round ratios: **${median(ratios).toFixed(2)}** (target ≥ 0.95; quartiles ${[
        ...ratios,
      ]
        .sort((x, y) => x - y)
        .filter(
          (_, i, all) => i === Math.floor(all.length / 4) || i === Math.floor((3 * all.length) / 4),
        )
        .map((r) => r.toFixed(2))
        .join(" / ")}).`,
      "",
    ].join("\n");
  } finally {
    await spans?.stop();
    for (const runtime of runtimes) await runtime.close();
    await redis.close();
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  latencyCostSection()
    .then((section) => process.stdout.write(`${section}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`[bench latency-cost] failed: ${String(error)}\n`);
      process.exit(1);
    });
}
