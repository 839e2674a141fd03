import type { RateLimitPoint } from "../model.ts";
import { sumByBucket, type TimeWindow } from "./time-buckets.ts";

/** One stacked bar of the rate-limit chart. */
export interface RateLimitChartRow {
  t: number;
  allowed: number;
  blocked: number;
}

/** Totals of one policy over the window. */
export interface PolicyTotals {
  policy: string;
  allowed: number;
  blocked: number;
}

/** Every policy present in the points, sorted by name. */
export function rateLimitPolicies(points: readonly RateLimitPoint[]): string[] {
  return [...new Set(points.map((p) => p.policy))].sort((a, b) => a.localeCompare(b));
}

/** Chart rows for one policy (or all when `policy` is null), one per bucket, zero-filled. */
export function rateLimitChartRows(
  points: readonly RateLimitPoint[],
  window: TimeWindow,
  policy: string | null,
): RateLimitChartRow[] {
  return sumByBucket(
    points,
    window,
    ["allowed", "blocked"],
    (point) => policy === null || point.policy === policy,
  );
}

/** Allowed and blocked totals per policy, most blocked first. */
export function policyTotals(points: readonly RateLimitPoint[]): PolicyTotals[] {
  const totals = new Map<string, PolicyTotals>();
  for (const point of points) {
    const row = totals.get(point.policy) ?? { policy: point.policy, allowed: 0, blocked: 0 };
    row.allowed += point.allowed;
    row.blocked += point.blocked;
    totals.set(point.policy, row);
  }
  return [...totals.values()].sort(
    (a, b) => b.blocked - a.blocked || b.allowed - a.allowed || a.policy.localeCompare(b.policy),
  );
}
