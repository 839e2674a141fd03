import type { MetricsRow, ReadMetricsOptions } from "@hotpath/cache";
import { readMetrics } from "@hotpath/cache/internal";

/** Counters of background jobs, per job name per minute (group `jobs` of `@hotpath/config`). */
export const JOB_COUNTERS = [
  "jobs_published_total",
  "jobs_delivered_total",
  "jobs_failed_total",
  "jobs_retried_total",
  "jobs_duration_ms_total",
] as const;

/** One of {@link JOB_COUNTERS}. */
export type JobCounter = (typeof JOB_COUNTERS)[number];

/** Where jobs count: `count(label, counter, by)` (a `MetricsRecorder` of `@hotpath/cache` fits). */
export interface JobMetricsSink {
  count(label: string, counter: string, by?: number): void;
}

/** One minute of one job's counters, as {@link readJobMetrics} returns them. */
export type JobMetricsRow = MetricsRow<JobCounter> & { job: string };

/**
 * Job counters per minute per job name over a range (one round trip: a pipeline of HGETALL over
 * the shared per-minute buckets, so every instance's counts add up).
 */
export async function readJobMetrics(
  redis: Parameters<typeof readMetrics>[0],
  options: ReadMetricsOptions,
): Promise<JobMetricsRow[]> {
  const rows = await readMetrics(redis, "jobs", JOB_COUNTERS, options);
  return rows.map((row) => ({ ...row, job: row.label }));
}
