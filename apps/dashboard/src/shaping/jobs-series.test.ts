import { describe, expect, it } from "vitest";
import type { JobSchedule, JobsPoint } from "../model.ts";
import { jobNames, jobsChartRows, jobTotals, sortedSchedules } from "./jobs-series.ts";
import { sumByBucket, windowEndingAt } from "./time-buckets.ts";

const MIN = 60_000;
// 2026-01-01T10:00:00Z, a whole minute.
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

const point = (t: number, job: string, counts: Partial<JobsPoint> = {}): JobsPoint => ({
  t,
  job,
  published: 0,
  delivered: 0,
  retried: 0,
  failed: 0,
  ...counts,
});

describe("sumByBucket", () => {
  it("zero-fills every bucket, sums the fields per bucket and drops points outside the window or excluded", () => {
    const window = { from: T0, to: T0 + 3 * MIN, stepMs: MIN };
    const rows = sumByBucket(
      [
        { t: T0 + 10_000, a: 1, b: 2, keep: true },
        { t: T0 + 50_000, a: 3, b: 0, keep: true },
        { t: T0 + 2 * MIN, a: 5, b: 5, keep: false },
        { t: T0 - 1, a: 100, b: 100, keep: true },
        { t: T0 + 3 * MIN, a: 100, b: 100, keep: true },
      ],
      window,
      ["a", "b"],
      (p) => p.keep,
    );
    expect(rows).toEqual([
      { t: T0, a: 4, b: 2 },
      { t: T0 + MIN, a: 0, b: 0 },
      { t: T0 + 2 * MIN, a: 0, b: 0 },
    ]);
  });
});

describe("jobs series", () => {
  const points = [
    point(T0 - 2 * MIN, "apply-tip", { published: 3, delivered: 2, failed: 1, retried: 1 }),
    point(T0 - 2 * MIN, "outbox-relay", { delivered: 1 }),
    point(T0 - MIN, "apply-tip", { delivered: 1, retried: 1 }),
    point(T0 - 30 * MIN, "apply-tip", { published: 50 }),
  ];
  const window = windowEndingAt(T0 - 1, 15 * MIN, MIN);

  it("lists job names sorted", () => {
    expect(jobNames(points)).toEqual(["apply-tip", "outbox-relay"]);
  });
  it("sums all jobs or one job per bucket, zero-filled, inside the window only", () => {
    const all = jobsChartRows(points, window, null);
    expect(all).toHaveLength(15);
    expect(all.find((r) => r.t === T0 - 2 * MIN)).toEqual({
      t: T0 - 2 * MIN,
      published: 3,
      delivered: 3,
      retried: 1,
      failed: 1,
    });
    const relay = jobsChartRows(points, window, "outbox-relay");
    expect(relay.reduce((sum, r) => sum + r.delivered + r.published, 0)).toBe(1);
    expect(all.reduce((sum, r) => sum + r.published, 0)).toBe(3);
  });
  it("totals every counter, for all jobs or one", () => {
    expect(jobTotals(points)).toEqual({ published: 53, delivered: 4, retried: 2, failed: 1 });
    expect(jobTotals(points, "outbox-relay")).toEqual({
      published: 0,
      delivered: 1,
      retried: 0,
      failed: 0,
    });
  });
  it("puts failed schedules first, then running ones, then by id", () => {
    const schedule = (scheduleId: string, lastState: JobSchedule["lastState"]): JobSchedule => ({
      scheduleId,
      job: null,
      cron: "* * * * *",
      paused: false,
      lastRunAt: null,
      nextRunAt: null,
      lastState,
    });
    const sorted = sortedSchedules([
      schedule("a", "SUCCESS"),
      schedule("b", null),
      schedule("c", "IN_PROGRESS"),
      schedule("d", "FAIL"),
    ]);
    expect(sorted.map((s) => s.scheduleId)).toEqual(["d", "c", "a", "b"]);
  });
});
