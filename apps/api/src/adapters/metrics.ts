import { readCacheMetrics, readIdempotencyMetrics, readLatency } from "@hotpath/cache";
import { readJobMetrics } from "@hotpath/jobs";
import type { RateLimiter } from "@hotpath/ratelimit";
import type { Redis } from "@upstash/redis";
import type { MetricsPoint, MetricsReader } from "../trpc/deps.ts";

/** Options of {@link createMetricsReader}. */
export interface MetricsReaderOptions {
  redis: Redis;
  app: string;
  limiter: RateLimiter;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

/** Reads the per-minute metrics that @hotpath/cache and @hotpath/ratelimit aggregate in Redis. */
export function createMetricsReader(options: MetricsReaderOptions): MetricsReader {
  const now = options.now ?? Date.now;
  const since = (minutes: number) => now() - minutes * 60_000;
  const range = (minutes: number) => ({
    app: options.app,
    sinceMs: since(minutes),
    untilMs: now(),
  });
  return {
    async cache(minutes) {
      return seriesByLabel(await readCacheMetrics(options.redis, range(minutes)));
    },
    async jobs(minutes) {
      return seriesByLabel(await readJobMetrics(options.redis, range(minutes)));
    },
    async rateLimit(minutes) {
      const timeline = await options.limiter.metrics.getUsageOverTime({ since: since(minutes) });
      const series: Record<string, MetricsPoint[]> = {};
      for (const point of timeline) {
        for (const [policy, usage] of Object.entries(point.policies)) {
          (series[policy] ??= []).push({ minute: point.time, counters: { ...usage } });
        }
      }
      return series;
    },
    async topIdentifiers(minutes, n) {
      const hours = Math.max(1, Math.ceil(minutes / 60));
      const [blocked, allowed] = await Promise.all([
        options.limiter.metrics.topIdentifiers({ kind: "blocked", hours, limit: n }),
        options.limiter.metrics.topIdentifiers({ kind: "allowed", hours, limit: n }),
      ]);
      const merged = new Map<string, { identifier: string; blocked: number; allowed: number }>();
      for (const entry of blocked)
        merged.set(entry.identifier, {
          identifier: entry.identifier,
          blocked: entry.count,
          allowed: 0,
        });
      for (const entry of allowed) {
        const row = merged.get(entry.identifier) ?? {
          identifier: entry.identifier,
          blocked: 0,
          allowed: 0,
        };
        row.allowed = entry.count;
        merged.set(entry.identifier, row);
      }
      return [...merged.values()]
        .sort((a, b) => b.blocked - a.blocked || b.allowed - a.allowed)
        .slice(0, n);
    },
    async latency(minutes) {
      const { sinceMs, untilMs } = range(minutes);
      const rows = await readLatency(options.redis, { app: options.app, sinceMs, untilMs });
      return { rows, sinceMs, untilMs };
    },
    async idempotency(minutes) {
      const rows = await readIdempotencyMetrics(options.redis, {
        app: options.app,
        sinceMs: since(minutes),
      });
      const totals: Record<string, Record<string, number>> = {};
      for (const row of rows) {
        const store = (totals[row.label] ??= {});
        for (const [counter, value] of Object.entries(row.counters))
          store[counter] = (store[counter] ?? 0) + value;
      }
      return totals;
    },
  };
}

/** Per-label series, each sorted by minute, from metrics rows of one group. */
function seriesByLabel(
  rows: readonly { label: string; minuteStartMs: number; counters: Record<string, number> }[],
): Record<string, MetricsPoint[]> {
  const series: Record<string, MetricsPoint[]> = {};
  for (const row of rows) {
    (series[row.label] ??= []).push({ minute: row.minuteStartMs, counters: { ...row.counters } });
  }
  for (const points of Object.values(series)) points.sort((a, b) => a.minute - b.minute);
  return series;
}
