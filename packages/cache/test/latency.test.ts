import { LATENCY_BUCKET_COUNT, LATENCY_BUCKET_MAX_RATIO, latencySeries } from "@hotpath/config";
import type { HotpathRedis } from "@hotpath/redis";
import { testTargets, TRANSPORTS } from "@hotpath/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createLatencyRecorder,
  emptyHistogram,
  histogramOf,
  histogramQuantile,
  mergeHistogram,
  readLatency,
  summarizeHistogram,
  type LatencyHistogram,
} from "../src/index.ts";
import { useTestApps } from "./helpers.ts";
import { runChildren } from "./processes.ts";

/** A seeded generator of log-normal durations (Box–Muller over a 32-bit LCG), clamped to the grid. */
function logNormalSamples(seed: number, n: number, medianMs: number, sigma: number): number[] {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return (state + 1) / 2 ** 32;
  };
  return Array.from({ length: n }, () => {
    const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    return Math.min(31_000, Math.max(0.11, medianMs * Math.exp(sigma * normal)));
  });
}

describe("latency histogram math", () => {
  it("quantiles of a known distribution are within one bucket's relative error (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.double({ min: 0.2, max: 2000, noNaN: true }),
        fc.double({ min: 0.05, max: 2.5, noNaN: true }),
        fc.constantFrom(0.5, 0.9, 0.95, 0.99, 0.999),
        (seed, n, medianMs, sigma, q) => {
          const samples = logNormalSamples(seed, n, medianMs, sigma);
          const sorted = [...samples].sort((a, b) => a - b);
          const truth = sorted[Math.max(1, Math.ceil(q * n)) - 1] as number;
          const estimate = histogramQuantile(histogramOf(samples), q) as number;
          const relativeError = Math.abs(estimate - truth) / truth;
          expect(relativeError).toBeLessThanOrEqual(LATENCY_BUCKET_MAX_RATIO - 1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("merging histograms equals the histogram of the concatenated samples", () => {
    const a = logNormalSamples(7, 500, 3, 1);
    const b = logNormalSamples(8, 700, 40, 0.5);
    const merged = mergeHistogram(histogramOf(a), histogramOf(b));
    const whole = histogramOf([...a, ...b]);
    expect(merged.buckets).toEqual(whole.buckets);
    expect(merged.count).toBe(1200);
    expect(merged.sumMs).toBeCloseTo(whole.sumMs, 6);
  });

  it("an empty histogram has no quantiles; the overflow bucket answers 31.5 s", () => {
    expect(summarizeHistogram(emptyHistogram())).toEqual({
      count: 0,
      sumMs: 0,
      p50: null,
      p95: null,
      p99: null,
    });
    expect(histogramQuantile(histogramOf([60_000]), 0.99)).toBe(31_500);
  });
});

describe.each(TRANSPORTS)("latency histograms in Redis over %s", (transport) => {
  let redis: HotpathRedis;
  const { newApp } = useTestApps(transport, (client) => (redis = client));

  it("a recorder's flushed minutes read back as the histogram it kept in process", async () => {
    const app = newApp("latency-roundtrip");
    const recorder = createLatencyRecorder({ redis, app, flushIntervalMs: 0 });
    const series = latencySeries("procedure", "streams.status");
    const samples = logNormalSamples(42, 400, 5, 1.2);
    for (const ms of samples) recorder.observe(series, ms);
    recorder.observe(latencySeries("redis", "cache_read"), 0.3);
    await recorder.close();
    const rows = await readLatency(redis, { app, sinceMs: Date.now() - 180_000 });
    const stored = emptyHistogram();
    for (const row of rows.filter((r) => r.series === series))
      mergeHistogram(stored, row.histogram);
    const local = recorder.snapshot().get(series) as LatencyHistogram;
    expect(stored.buckets).toEqual(local.buckets);
    expect(stored.count).toBe(400);
    expect(stored.sumMs).toBeCloseTo(local.sumMs, 0);
    const others = rows.filter((r) => r.series !== series).map((r) => r.series);
    expect(new Set(others)).toEqual(new Set([latencySeries("redis", "cache_read")]));
    const filtered = await readLatency(redis, {
      app,
      sinceMs: Date.now() - 180_000,
      filter: (s) => s.startsWith("redis/"),
    });
    expect(filtered.every((row) => row.series === "redis/cache_read")).toBe(true);
  });

  it("three processes recording into the same minutes add up exactly", async () => {
    const app = newApp("latency-processes");
    const targets = testTargets();
    const series = latencySeries("procedure", "tips.quick");
    const results = await runChildren<{ buckets: number[]; sumUs: number }>(
      "fixtures/latency-child.ts",
      3,
      {
        url: transport === "tcp" ? targets.redisUrl : targets.gatewayUrl,
        token: transport === "tcp" ? undefined : targets.gatewayToken,
        app,
        series,
        samples: 1500,
        seeds: [11, 23, 37, 41, 53],
      },
    );
    const rows = await readLatency(redis, { app, sinceMs: Date.now() - 300_000 });
    const stored = emptyHistogram();
    for (const row of rows) mergeHistogram(stored, row.histogram);
    const expected = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
    for (const result of results)
      result.buckets.forEach((count, i) => (expected[i] = (expected[i] ?? 0) + count));
    expect(stored.buckets).toEqual(expected);
    expect(stored.count).toBe(4500);
    expect(Math.round(stored.sumMs * 1000)).toBe(results.reduce((sum, r) => sum + r.sumUs, 0));
  }, 90_000);
});
