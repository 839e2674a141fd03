import type { JobSchedule, JobsPoint } from "../model.ts";
import { sumByBucket, type TimeWindow } from "./time-buckets.ts";

/** The counters of the Jobs chart, in stacking order. */
export const JOB_COUNTERS = ["published", "delivered", "retried", "failed"] as const;
/** One of {@link JOB_COUNTERS}. */
export type JobCounter = (typeof JOB_COUNTERS)[number];

/** One bar group of the Jobs chart. */
export type JobsChartRow = { t: number } & Record<JobCounter, number>;

/** Totals of the job counters over the points. */
export type JobTotals = Record<JobCounter, number>;

/** Every job name present in the points, sorted by name. */
export function jobNames(points: readonly JobsPoint[]): string[] {
  return [...new Set(points.map((p) => p.job))].sort((a, b) => a.localeCompare(b));
}

/** Chart rows for one job (or all when `job` is null), one per bucket, zero-filled. */
export function jobsChartRows(
  points: readonly JobsPoint[],
  window: TimeWindow,
  job: string | null,
): JobsChartRow[] {
  return sumByBucket(points, window, JOB_COUNTERS, (point) => job === null || point.job === job);
}

/** Totals of each counter over the points of one job (or all when `job` is null). */
export function jobTotals(points: readonly JobsPoint[], job: string | null = null): JobTotals {
  const totals: JobTotals = { published: 0, delivered: 0, retried: 0, failed: 0 };
  for (const point of points) {
    if (job !== null && point.job !== job) continue;
    for (const counter of JOB_COUNTERS) totals[counter] += point[counter];
  }
  return totals;
}

/** Schedules needing attention first (last firing failed, then running), then by id. */
export function sortedSchedules(schedules: readonly JobSchedule[]): JobSchedule[] {
  const rank = (s: JobSchedule) =>
    s.lastState === "FAIL" ? 0 : s.lastState === "IN_PROGRESS" ? 1 : 2;
  return [...schedules].sort(
    (a, b) => rank(a) - rank(b) || a.scheduleId.localeCompare(b.scheduleId),
  );
}
