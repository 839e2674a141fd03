import {
  LATENCY_BUCKET_BOUNDS_US,
  LATENCY_BUCKET_COUNT,
  LATENCY_SUM_FIELD,
  METRICS_MINUTE_RETENTION_SECONDS,
  latencyBucketField,
  latencyBucketIndex,
  metricsMinuteKey,
  minuteBucketStartMs,
  minuteBuckets,
  parseLatencyBucketField,
  parseMetricsField,
} from "@hotpath/config";
import { createMetricsRecorder, type MetricsRecorderOptions } from "./metrics.ts";
import { createWire, type RedisClient } from "./wire.ts";

/** A latency histogram on the shared buckets of `@hotpath/config` (counts per bucket, sum in ms). */
export interface LatencyHistogram {
  /** Count per bucket, {@link LATENCY_BUCKET_COUNT} entries (the last one is the overflow bucket). */
  buckets: number[];
  /** Sum of the durations in ms. */
  sumMs: number;
  /** Number of durations (the sum of `buckets`). */
  count: number;
}

/** Count, sum and quantiles of a histogram (ms; `null` when it is empty). */
export interface LatencySummary {
  count: number;
  sumMs: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** An empty {@link LatencyHistogram}. */
export function emptyHistogram(): LatencyHistogram {
  return { buckets: new Array<number>(LATENCY_BUCKET_COUNT).fill(0), sumMs: 0, count: 0 };
}

/** Adds one duration (ms; negative counts as 0) to `histogram` and returns it. */
export function addToHistogram(histogram: LatencyHistogram, durationMs: number): LatencyHistogram {
  const ms = durationMs > 0 ? durationMs : 0;
  const index = latencyBucketIndex(ms);
  histogram.buckets[index] = (histogram.buckets[index] ?? 0) + 1;
  histogram.sumMs += ms;
  histogram.count += 1;
  return histogram;
}

/** A {@link LatencyHistogram} of the given durations (ms). */
export function histogramOf(durationsMs: Iterable<number>): LatencyHistogram {
  const histogram = emptyHistogram();
  for (const ms of durationsMs) addToHistogram(histogram, ms);
  return histogram;
}

/** Adds `from` into `into` (bucket by bucket) and returns `into`. */
export function mergeHistogram(into: LatencyHistogram, from: LatencyHistogram): LatencyHistogram {
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i += 1)
    into.buckets[i] = (into.buckets[i] ?? 0) + (from.buckets[i] ?? 0);
  into.sumMs += from.sumMs;
  into.count += from.count;
  return into;
}

/**
 * The `q` quantile (0 < q <= 1) of a histogram in ms: the bucket holding the ⌈q·count⌉-th
 * duration, interpolated geometrically inside it (so the answer is always in the same bucket as
 * the true nearest-rank quantile: within one bucket's ratio of it). The overflow bucket answers
 * its lower bound (31.5 s). `null` when empty.
 */
export function histogramQuantile(histogram: LatencyHistogram, q: number): number | null {
  if (histogram.count <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * histogram.count));
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i += 1) {
    const inBucket = histogram.buckets[i] ?? 0;
    if (inBucket === 0 || seen + inBucket < rank) {
      seen += inBucket;
      continue;
    }
    const upper = LATENCY_BUCKET_BOUNDS_US[i];
    const lower = LATENCY_BUCKET_BOUNDS_US[i - 1];
    if (upper === undefined) return (lower as number) / 1000;
    const fraction = (rank - seen) / inBucket;
    if (lower === undefined) return (upper * fraction) / 1000;
    return (lower * (upper / lower) ** fraction) / 1000;
  }
  return null;
}

/** Count, sum, p50, p95 and p99 of a histogram. */
export function summarizeHistogram(histogram: LatencyHistogram): LatencySummary {
  return {
    count: histogram.count,
    sumMs: histogram.sumMs,
    p50: histogramQuantile(histogram, 0.5),
    p95: histogramQuantile(histogram, 0.95),
    p99: histogramQuantile(histogram, 0.99),
  };
}

/** Options of {@link createLatencyRecorder}: those of the counter recorder, without the group. */
export type LatencyRecorderOptions = Omit<MetricsRecorderOptions, "group">;

/**
 * Records durations into per-minute histograms in Redis (`<app>:metrics:latency:<minute>`, fields
 * `<series>|le_<bound µs>` and `<series>|sum_us`) through the same buffered recorder as the
 * counters: `observe` does no I/O, the flush is one HINCRBY pipeline off the request path, and N
 * instances add up. It also keeps in-process cumulative histograms for a Prometheus `/metrics`.
 */
export interface LatencyRecorder {
  /** Records one duration (ms) of `series` (a `@hotpath/config` `latencySeries(...)` label). No I/O. */
  observe(series: string, durationMs: number): void;
  /** In-process cumulative histograms since start, per series (what a Prometheus scrape reads). */
  snapshot(): Map<string, LatencyHistogram>;
  /** Writes everything buffered now (one round trip); never throws. */
  flush(): Promise<void>;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
}

/** Creates a {@link LatencyRecorder}. */
export function createLatencyRecorder(options: LatencyRecorderOptions): LatencyRecorder {
  const recorder = createMetricsRecorder({ ...options, group: "latency" });
  const local = new Map<string, LatencyHistogram>();
  return {
    observe(series, durationMs) {
      const ms = durationMs > 0 ? durationMs : 0;
      recorder.count(series, latencyBucketField(latencyBucketIndex(ms)));
      recorder.count(series, LATENCY_SUM_FIELD, Math.round(ms * 1000));
      let histogram = local.get(series);
      if (!histogram) local.set(series, (histogram = emptyHistogram()));
      addToHistogram(histogram, ms);
    },
    snapshot: () =>
      new Map([...local].map(([series, h]) => [series, mergeHistogram(emptyHistogram(), h)])),
    flush: () => recorder.flush(),
    close: () => recorder.close(),
  };
}

/** One minute of one latency series, as stored in Redis. */
export interface LatencyRow {
  /** Start of the minute (epoch ms). */
  minuteStartMs: number;
  /** The series label (`procedure/streams.status`, `redis/cache_read`…). */
  series: string;
  histogram: LatencyHistogram;
}

/** Options of {@link readLatency}. */
export interface ReadLatencyOptions {
  app: string;
  /** Start of the range (epoch ms, inclusive). */
  sinceMs: number;
  /** End of the range (epoch ms, inclusive). @default now */
  untilMs?: number;
  /** Only series for which this returns true (the rest are skipped while parsing). */
  filter?: (series: string) => boolean;
  /** Timeout in ms. @default 2000 */
  timeoutMs?: number;
}

const MAX_MINUTES = METRICS_MINUTE_RETENTION_SECONDS / 60;

/**
 * Reads the per-minute latency histograms of every series over a range (one round trip: a
 * pipeline of HGETALL, at most the 48 h retention). Merge minutes with {@link mergeHistogram}.
 */
export async function readLatency(
  redis: RedisClient,
  options: ReadLatencyOptions,
): Promise<LatencyRow[]> {
  const minutes = minuteBuckets(options.sinceMs, options.untilMs ?? Date.now(), MAX_MINUTES);
  if (minutes.length === 0) return [];
  const wire = createWire(redis, options.timeoutMs ?? 2000);
  const replies = await wire.pipeline(
    minutes.map((minute) => ["HGETALL", metricsMinuteKey(options.app, "latency", minute)]),
  );
  const rows: LatencyRow[] = [];
  replies.forEach((reply, index) => {
    if (!reply.ok || !Array.isArray(reply.value)) return;
    const flat = reply.value as unknown[];
    const bySeries = new Map<string, LatencyHistogram>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field = parseMetricsField(String(flat[i]));
      if (!field || (options.filter && !options.filter(field.label))) continue;
      const value = Number(flat[i + 1]) || 0;
      const bucket = parseLatencyBucketField(field.counter);
      if (bucket === undefined && field.counter !== LATENCY_SUM_FIELD) continue;
      let histogram = bySeries.get(field.label);
      if (!histogram) bySeries.set(field.label, (histogram = emptyHistogram()));
      if (bucket === undefined) {
        histogram.sumMs += value / 1000;
      } else {
        histogram.buckets[bucket] = (histogram.buckets[bucket] ?? 0) + value;
        histogram.count += value;
      }
    }
    const minuteStartMs = minuteBucketStartMs(minutes[index] as number);
    for (const [series, histogram] of bySeries) rows.push({ minuteStartMs, series, histogram });
  });
  return rows;
}
