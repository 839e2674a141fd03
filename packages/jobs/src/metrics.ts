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
