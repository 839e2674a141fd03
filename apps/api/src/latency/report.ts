import {
  emptyHistogram,
  mergeHistogram,
  summarizeHistogram,
  type LatencyHistogram,
  type LatencyRow,
} from "@hotpath/cache";
import { parseLatencySeries } from "@hotpath/config";

/** Count, mean and quantiles of a set of durations, in ms (`null` when there were none). */
export interface LatencyStats {
  count: number;
  meanMs: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** One minute of a series. */
export interface LatencyPoint extends LatencyStats {
  /** Start of the minute (epoch ms). */
  minute: number;
}

/**
 * Where a procedure's time went, as shares of its total duration (0–1): waiting on Redis, on
 * the database, and the rest (CPU, the network, waits on anything else). Redis and database
 * waits can overlap, so `redis + db` may exceed the call time in rare cases; `other` is then 0.
 */
export interface LatencyShare {
  redis: number;
  db: number;
  other: number;
}

/** One tRPC procedure over the range. */
export interface ProcedureLatency extends LatencyStats {
  /** Procedure path (`streams.status`). */
  procedure: string;
  /** Mean ms per call spent waiting on Redis (`null` when not measured). */
  redisMeanMs: number | null;
  /** Mean ms per call spent waiting on the database (`null` when not measured). */
  dbMeanMs: number | null;
  /** Shares of the total time (`null` when not measured). */
  share: LatencyShare | null;
  /** Per-minute points, oldest first; minutes without calls are absent. */
  series: LatencyPoint[];
}

/** One Redis operation group (`cache_read`, `ratelimit_check`, `idempotency_claim`, `job_delivery`). */
export interface OperationLatency extends LatencyStats {
  operation: string;
  /** Per-minute points, oldest first; minutes without operations are absent. */
  series: LatencyPoint[];
}

/** What `metrics.latency` returns. */
export interface LatencyReport {
  /** The range: the last `minutes` minutes up to `untilMs` (epoch ms). */
  minutes: number;
  sinceMs: number;
  untilMs: number;
  /** Every procedure called in the range, slowest first (p99, then p50). */
  procedures: ProcedureLatency[];
  /** Redis operation groups, by name. */
  operations: OperationLatency[];
}

function stats(histogram: LatencyHistogram): LatencyStats {
  const summary = summarizeHistogram(histogram);
  return {
    count: summary.count,
    meanMs: summary.count > 0 ? summary.sumMs / summary.count : null,
    p50: summary.p50,
    p95: summary.p95,
    p99: summary.p99,
  };
}

interface Series {
  total: LatencyHistogram;
  minutes: Map<number, LatencyHistogram>;
}

function seriesPoints(series: Series): LatencyPoint[] {
  return [...series.minutes]
    .sort(([a], [b]) => a - b)
    .map(([minute, histogram]) => ({ minute, ...stats(histogram) }));
}

/**
 * Builds a {@link LatencyReport} from the per-minute rows `readLatency` returns (every instance's
 * minutes already added up in Redis): procedures and their Redis/database waits, and Redis
 * operation groups, each over the range and per minute.
 */
export function buildLatencyReport(
  rows: readonly LatencyRow[],
  range: { minutes: number; sinceMs: number; untilMs: number },
): LatencyReport {
  const byKind = new Map<string, Map<string, Series>>();
  for (const row of rows) {
    const parsed = parseLatencySeries(row.series);
    if (!parsed) continue;
    let names = byKind.get(parsed.kind);
    if (!names) byKind.set(parsed.kind, (names = new Map<string, Series>()));
    let series = names.get(parsed.name);
    if (!series) names.set(parsed.name, (series = { total: emptyHistogram(), minutes: new Map() }));
    mergeHistogram(series.total, row.histogram);
    const minute = series.minutes.get(row.minuteStartMs);
    if (minute) mergeHistogram(minute, row.histogram);
    else series.minutes.set(row.minuteStartMs, mergeHistogram(emptyHistogram(), row.histogram));
  }
  const redisWaits = byKind.get("procedure_redis");
  const dbWaits = byKind.get("procedure_db");
  const meanOf = (series: Series | undefined) =>
    series && series.total.count > 0 ? series.total.sumMs / series.total.count : null;

  const procedures: ProcedureLatency[] = [...(byKind.get("procedure") ?? [])].map(
    ([procedure, series]) => {
      const redis = redisWaits?.get(procedure);
      const db = dbWaits?.get(procedure);
      const total = series.total.sumMs;
      const measured = (redis !== undefined || db !== undefined) && total > 0;
      const redisShare = measured ? Math.min(1, (redis?.total.sumMs ?? 0) / total) : 0;
      const dbShare = measured ? Math.min(1, (db?.total.sumMs ?? 0) / total) : 0;
      return {
        procedure,
        ...stats(series.total),
        redisMeanMs: meanOf(redis),
        dbMeanMs: meanOf(db),
        share: measured
          ? { redis: redisShare, db: dbShare, other: Math.max(0, 1 - redisShare - dbShare) }
          : null,
        series: seriesPoints(series),
      };
    },
  );
  procedures.sort(
    (a, b) =>
      (b.p99 ?? 0) - (a.p99 ?? 0) ||
      (b.p50 ?? 0) - (a.p50 ?? 0) ||
      a.procedure.localeCompare(b.procedure),
  );
  const operations: OperationLatency[] = [...(byKind.get("redis") ?? [])]
    .map(([operation, series]) => ({
      operation,
      ...stats(series.total),
      series: seriesPoints(series),
    }))
    .sort((a, b) => a.operation.localeCompare(b.operation));
  return { ...range, procedures, operations };
}
