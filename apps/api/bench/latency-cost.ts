/**
 * Cost of latency histograms and tracing on `streams.status` (`tsx bench/latency-cost.ts`, also a
 * section of `pnpm bench api`): two in-process APIs on one redis-server started here, one with
 * `LATENCY_HISTOGRAMS=false` and no tracer provider, one with histograms on and the OpenTelemetry
 * SDK registered (AsyncLocalStorage context manager, every span recorded), and each alone. Short
 * interleaved rounds of concurrent calls through the fetch handler; each ratio is the mode's req/s
 * over off's in the same round, median of the per-round ratios (target for both on >= 0.95).
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

/** One round of a mode: calls per second, and this process's CPU time per call (µs). */
interface Round {
  rps: number;
  cpuMicros: number;
}

/**
 * Calls completed by `CONCURRENCY` loops within `ROUND_MS`, and the CPU time this process spent
 * per call meanwhile (user + system): unlike req/s, it barely moves when other processes load the
 * machine, so it is the steadier measure of what histograms and tracing cost.
 */
async function round(handler: FetchHandler): Promise<Round> {
  const until = performance.now() + ROUND_MS;
  const cpuBefore = process.cpuUsage();
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
  const cpu = process.cpuUsage(cpuBefore);
  return { rps: done / (ROUND_MS / 1000), cpuMicros: (cpu.user + cpu.system) / Math.max(1, done) };
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
    /** Registers the SDK recording `ratio` of the traces (0: none registered). */
    let registered = 0;
    const tracing = async (ratio: number) => {
      if (spans && registered !== ratio) {
        await spans.stop();
        spans = undefined;
      }
      if (ratio > 0 && !spans) spans = recordSpans({ ratio });
      registered = ratio;
      spans?.reset();
    };
    // Each mode is a handler (histograms on or off) with the SDK registered or not.
    const modes = {
      off: { handler: handlers.off, traced: 0 },
      histograms: { handler: handlers.on, traced: 0 },
      tracing: { handler: handlers.off, traced: 1 },
      both: { handler: handlers.on, traced: 1 },
      "both, 10% sampled": { handler: handlers.on, traced: 0.1 },
    } as const;
    type Mode = keyof typeof modes;
    const names = Object.keys(modes) as Mode[];
    for (const mode of names) {
      await tracing(modes[mode].traced);
      await round(modes[mode].handler);
    }
    const rps = Object.fromEntries(names.map((mode) => [mode, [] as number[]])) as Record<
      Mode,
      number[]
    >;
    const ratios = Object.fromEntries(names.map((mode) => [mode, [] as number[]])) as Record<
      Mode,
      number[]
    >;
    const cpu = Object.fromEntries(names.map((mode) => [mode, [] as number[]])) as Record<
      Mode,
      number[]
    >;
    const cpuRatios = Object.fromEntries(names.map((mode) => [mode, [] as number[]])) as Record<
      Mode,
      number[]
    >;
    for (let i = 1; i <= ROUNDS; i++) {
      // The order rotates so that no mode always runs first or last in a round.
      const order = names.map((_, k) => names[(k + i) % names.length] as Mode);
      for (const mode of order) {
        await tracing(modes[mode].traced);
        const result = await round(modes[mode].handler);
        rps[mode].push(result.rps);
        cpu[mode].push(result.cpuMicros);
      }
      const off = Math.max(1, rps.off.at(-1) ?? 0);
      for (const mode of names) ratios[mode].push((rps[mode].at(-1) ?? 0) / off);
      // As a throughput ratio: off's CPU per call over the mode's (0.90 = 11% more CPU per call).
      for (const mode of names)
        cpuRatios[mode].push((cpu.off.at(-1) ?? 0) / (cpu[mode].at(-1) ?? 1));
      if (i % 5 === 0) log(`round ${i}/${ROUNDS}`);
    }
    await tracing(0);
    const quartiles = (values: number[]) =>
      [...values]
        .sort((x, y) => x - y)
        .filter(
          (_, i, all) => i === Math.floor(all.length / 4) || i === Math.floor((3 * all.length) / 4),
        )
        .map((r) => r.toFixed(2))
        .join(" / ");
    const describe: Record<Mode, string> = {
      off: "`LATENCY_HISTOGRAMS=false`, no tracer provider",
      histograms: "histograms on (AsyncLocalStorage call scope), no tracer provider",
      tracing: "histograms off, OpenTelemetry SDK registered (every span recorded in memory)",
      both: "histograms on + OpenTelemetry SDK registered",
      "both, 10% sampled":
        "histograms on + the SDK recording 10% of traces (parent-based ratio sampler, as in production)",
    };
    return [
      "## API: cost of latency histograms and tracing",
      "",
      `\`streams.status\` (rate limit + cache hit) through the fetch handler in-process, ${CONCURRENCY} concurrent loops,`,
      `${ROUNDS} rounds of ${ROUND_MS} ms per mode (order rotated each round), same run, own redis-server.`,
      "Ratio = the mode's req/s / off's in the same round; median of the per-round ratios (target ≥ 0.95 with both on).",
      "CPU = this process's CPU time per call (API and load loop; Redis runs in its own process), and as a ratio",
      "off's CPU per call / the mode's in the same round: steadier than req/s when the machine is shared.",
      "",
      "| mode | what runs | req/s (median round) | vs off (quartiles) | CPU µs/call | CPU: off / mode (quartiles) |",
      "|---|---|---:|---:|---:|---:|",
      ...names.map(
        (mode) =>
          `| ${mode} | ${describe[mode]} | ${Math.round(median(rps[mode])).toLocaleString("en")} | ${
            mode === "off"
              ? "1.00"
              : `**${median(ratios[mode]).toFixed(2)}** (${quartiles(ratios[mode])})`
          } | ${median(cpu[mode]).toFixed(0)} | ${
            mode === "off"
              ? "1.00"
              : `**${median(cpuRatios[mode]).toFixed(2)}** (${quartiles(cpuRatios[mode])})`
          } |`,
      ),
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
