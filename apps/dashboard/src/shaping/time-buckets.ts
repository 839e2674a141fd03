/** A time window `[from, to)` cut into buckets of `stepMs`. */
export interface TimeWindow {
  from: number;
  to: number;
  stepMs: number;
}

/** Most buckets a chart draws; longer windows get wider buckets. */
export const MAX_BUCKETS = 96;

/**
 * The bucket width for a range: the source bucket (`sourceStepMs`, 1 minute for the API's counters)
 * widened to a whole multiple so that at most {@link MAX_BUCKETS} bars are drawn.
 */
export function bucketWidth(rangeMs: number, sourceStepMs: number): number {
  const step = Math.max(1, sourceStepMs);
  const multiple = Math.max(1, Math.ceil(rangeMs / step / MAX_BUCKETS));
  return step * multiple;
}

/** The window ending at `now` (aligned up to the bucket end) of length `rangeMs`. */
export function windowEndingAt(now: number, rangeMs: number, stepMs: number): TimeWindow {
  const to = Math.floor(now / stepMs) * stepMs + stepMs;
  return { from: to - Math.ceil(rangeMs / stepMs) * stepMs, to, stepMs };
}

/** Start times of every bucket of the window, oldest first. */
export function bucketStarts(window: TimeWindow): number[] {
  const starts: number[] = [];
  for (let t = window.from; t < window.to; t += window.stepMs) starts.push(t);
  return starts;
}

/** Start of the bucket holding `t`, or `null` when `t` falls outside the window. */
export function bucketOf(t: number, window: TimeWindow): number | null {
  if (t < window.from || t >= window.to) return null;
  return window.from + Math.floor((t - window.from) / window.stepMs) * window.stepMs;
}

/**
 * One row per bucket of the window (zero-filled, so the x axis does not jump between refreshes)
 * holding the sums of `fields` over the points in that bucket; points outside the window and
 * points `include` rejects are left out.
 */
export function sumByBucket<
  TField extends string,
  TPoint extends { t: number } & Record<TField, number>,
>(
  points: readonly TPoint[],
  window: TimeWindow,
  fields: readonly TField[],
  include: (point: TPoint) => boolean = () => true,
): Array<{ t: number } & Record<TField, number>> {
  const rows = new Map<number, { t: number } & Record<TField, number>>();
  for (const t of bucketStarts(window)) {
    const row = { t } as { t: number } & Record<TField, number>;
    for (const field of fields) (row as Record<TField, number>)[field] = 0;
    rows.set(t, row);
  }
  for (const point of points) {
    if (!include(point)) continue;
    const bucket = bucketOf(point.t, window);
    const row = bucket === null ? undefined : rows.get(bucket);
    if (!row) continue;
    for (const field of fields) (row as Record<TField, number>)[field] += point[field];
  }
  return [...rows.values()];
}
