import { performance } from "node:perf_hooks";

/** Result of one measured scenario. */
export interface Measurement {
  readonly name: string;
  /** Redis operations per second (commands; a 64-command pipeline counts 64). */
  readonly opsPerSecond: number;
  /** Calls (requests) per second. */
  readonly callsPerSecond: number;
  /** Median latency of one call, ms. */
  readonly p50: number;
  /** 99th percentile latency of one call, ms. */
  readonly p99: number;
  /** Calls measured (after the warm-up). */
  readonly calls: number;
  /** Every call made, warm-up included (to divide Redis command counts by). */
  readonly totalCalls: number;
  /** CPU time of this (client) process per call during the measured part, µs. */
  readonly clientMicrosPerCall: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

/**
 * Runs `call` from `concurrency` loops for `durationMs` (after `warmupMs` unmeasured) and
 * reports throughput and latency percentiles.
 */
export async function measure(
  name: string,
  options: { concurrency: number; durationMs: number; warmupMs: number; opsPerCall: number },
  call: (i: number) => Promise<unknown>,
): Promise<Measurement> {
  const run = async (ms: number, latencies: number[] | undefined) => {
    const end = performance.now() + ms;
    let calls = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async (_, worker) => {
        let i = worker;
        while (performance.now() < end) {
          const start = performance.now();
          await call(i);
          latencies?.push(performance.now() - start);
          calls += 1;
          i += options.concurrency;
        }
      }),
    );
    return calls;
  };
  const warmupCalls = await run(options.warmupMs, undefined);
  const latencies: number[] = [];
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const calls = await run(options.durationMs, latencies);
  const cpu = process.cpuUsage(cpuBefore);
  const elapsed = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const measurement = {
    name,
    calls,
    totalCalls: calls + warmupCalls,
    clientMicrosPerCall: (cpu.user + cpu.system) / Math.max(1, calls),
    callsPerSecond: calls / elapsed,
    opsPerSecond: (calls * options.opsPerCall) / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
  process.stderr.write(
    `[bench gateway] ${name}: ${Math.round(measurement.opsPerSecond)} ops/s p50 ${measurement.p50.toFixed(2)} ms\n`,
  );
  return measurement;
}
