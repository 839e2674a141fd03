import type { CachePoint } from "../model.ts";
import { hitRatio } from "./ratios.ts";
import { sumByBucket, type TimeWindow } from "./time-buckets.ts";

/** One bar group of the cache chart. */
export interface CacheChartRow {
  t: number;
  hit: number;
  miss: number;
  stale: number;
}

/** One row of the namespaces table. */
export interface NamespaceRow {
  namespace: string;
  hit: number;
  miss: number;
  stale: number;
  total: number;
  hitRatio: number | null;
}

/** Every namespace present in the points, sorted by name. */
export function cacheNamespaces(points: readonly CachePoint[]): string[] {
  return [...new Set(points.map((p) => p.namespace))].sort((a, b) => a.localeCompare(b));
}

/**
 * Chart rows for one namespace (or all when `namespace` is null): one row per bucket of the window,
 * zero-filled so the x axis does not jump between refreshes, points outside the window dropped.
 */
export function cacheChartRows(
  points: readonly CachePoint[],
  window: TimeWindow,
  namespace: string | null,
): CacheChartRow[] {
  return sumByBucket(
    points,
    window,
    ["hit", "miss", "stale"],
    (point) => namespace === null || point.namespace === namespace,
  );
}

/**
 * Totals per namespace over the points, sorted by hit ratio (best first); namespaces with no
 * requests last; ties broken by traffic (busiest first), then name.
 */
export function namespaceRows(points: readonly CachePoint[]): NamespaceRow[] {
  const rows = new Map<string, NamespaceRow>();
  for (const point of points) {
    const row = rows.get(point.namespace) ?? {
      namespace: point.namespace,
      hit: 0,
      miss: 0,
      stale: 0,
      total: 0,
      hitRatio: null,
    };
    row.hit += point.hit;
    row.miss += point.miss;
    row.stale += point.stale;
    rows.set(point.namespace, row);
  }
  const result = [...rows.values()].map((row) => ({
    ...row,
    total: row.hit + row.miss + row.stale,
    hitRatio: hitRatio(row.hit, row.miss, row.stale),
  }));
  return result.sort(
    (a, b) =>
      (b.hitRatio ?? -1) - (a.hitRatio ?? -1) ||
      b.total - a.total ||
      a.namespace.localeCompare(b.namespace),
  );
}
