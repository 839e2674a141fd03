import type { LatencyHistogram } from "@hotpath/cache";
import {
  LATENCY_BUCKET_BOUNDS_US,
  LATENCY_KINDS,
  parseLatencySeries,
  type LatencyKind,
} from "@hotpath/config";
import type { HistogramSample, MetricFamily } from "../http/prometheus.ts";

const HELP: Record<LatencyKind, string> = {
  procedure: "Duration of tRPC calls in this process, per procedure.",
  redis:
    "Duration of Redis operation groups (cache read, rate-limit check, idempotency claim, job delivery) in this process.",
  procedure_redis: "Time a tRPC call spent waiting on Redis in this process, per procedure.",
  procedure_db: "Time a tRPC call spent waiting on the database in this process, per procedure.",
};

/**
 * The in-process latency histograms (`LatencyRecorder.snapshot()`) as Prometheus histograms, one
 * family per kind (`hotpath_procedure_duration_seconds{procedure}`,
 * `hotpath_redis_operation_duration_seconds{operation}`, `hotpath_procedure_redis_seconds`,
 * `hotpath_procedure_db_seconds`), on the shared buckets in seconds. Cumulative since start, as
 * Prometheus expects; the per-minute histograms in Redis are the cross-instance view.
 */
export function latencyFamilies(snapshot: ReadonlyMap<string, LatencyHistogram>): MetricFamily[] {
  const byKind = new Map<LatencyKind, HistogramSample[]>();
  for (const [series, histogram] of snapshot) {
    const parsed = parseLatencySeries(series);
    if (!parsed) continue;
    let cumulative = 0;
    const buckets = LATENCY_BUCKET_BOUNDS_US.map((boundUs, index) => ({
      le: boundUs / 1_000_000,
      count: (cumulative += histogram.buckets[index] ?? 0),
    }));
    const samples = byKind.get(parsed.kind) ?? [];
    samples.push({
      labels: { [LATENCY_KINDS[parsed.kind].label]: parsed.name },
      buckets,
      sum: histogram.sumMs / 1000,
      count: histogram.count,
    });
    byKind.set(parsed.kind, samples);
  }
  return (Object.keys(LATENCY_KINDS) as LatencyKind[]).map((kind) => ({
    name: LATENCY_KINDS[kind].metric,
    help: HELP[kind],
    type: "histogram",
    samples: byKind.get(kind) ?? [],
  }));
}
