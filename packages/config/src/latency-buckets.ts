/**
 * Latency histograms of the shared metrics schema: one fixed set of log-scale buckets for every
 * series (procedures, Redis operation groups, time in Redis / the database per call), so minutes,
 * series and API instances merge by adding bucket counts.
 *
 * The bounds are the R10 preferred numbers (ISO 3: 1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8) in
 * every decade from 0.1 ms to 31.5 s. Adjacent bounds are at most 1.28x apart, so a quantile read
 * back lies in the same bucket as the true one: within 28 % of it (2x steps would allow 100 %),
 * while the `le` labels stay readable (0.0025, 0.00315…). 56 finite buckets + overflow; a minute
 * stores only the buckets it saw (typically a dozen per series), so the fine grid costs little.
 */

const R10 = [100, 125, 160, 200, 250, 315, 400, 500, 630, 800] as const;

/** Upper bounds (inclusive, in µs) of the finite latency buckets, ascending: 100 µs … 31.5 s. */
export const LATENCY_BUCKET_BOUNDS_US: readonly number[] = Object.freeze(
  [1, 10, 100, 1000, 10_000, 100_000]
    .flatMap((scale) => R10.map((mantissa) => mantissa * scale))
    .filter((bound) => bound <= 31_500_000),
);

/** Largest ratio between adjacent bounds (1.6 / 1.25): the relative error bound of a quantile. */
export const LATENCY_BUCKET_MAX_RATIO = 1.28;

/** Number of buckets including the overflow bucket (`le="+Inf"`), which is the last index. */
export const LATENCY_BUCKET_COUNT = LATENCY_BUCKET_BOUNDS_US.length + 1;

/** Hash field suffix of the sum of a series (µs, an integer so HINCRBY can add it). */
export const LATENCY_SUM_FIELD = "sum_us";

/**
 * Index of the bucket a duration (ms) falls in: the first bound >= the duration (durations under
 * 0.1 ms go to bucket 0, beyond 31.5 s to the overflow bucket). Binary search, no allocation.
 */
export function latencyBucketIndex(durationMs: number): number {
  const us = durationMs * 1000;
  let low = 0;
  let high = LATENCY_BUCKET_BOUNDS_US.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((LATENCY_BUCKET_BOUNDS_US[middle] as number) >= us) high = middle;
    else low = middle + 1;
  }
  return low;
}

const BUCKET_FIELDS: readonly string[] = [
  ...LATENCY_BUCKET_BOUNDS_US.map((bound) => `le_${bound}`),
  "le_inf",
];
const FIELD_INDEX = new Map(BUCKET_FIELDS.map((field, index) => [field, index]));

/**
 * Counter name of a bucket in a minute hash: `le_<upper bound in µs>` (`le_inf` for overflow).
 * Named by the bound, not the index, so stored minutes stay meaningful if the grid ever grows.
 * @example latencyBucketField(latencyBucketIndex(0.2)) // "le_200"
 */
export function latencyBucketField(index: number): string {
  const field = BUCKET_FIELDS[index];
  if (field === undefined) throw new RangeError(`No latency bucket ${index}`);
  return field;
}

/** Bucket index of a field written by {@link latencyBucketField}; `undefined` for any other. */
export function parseLatencyBucketField(field: string): number | undefined {
  return FIELD_INDEX.get(field);
}

/**
 * What a latency series measures, with its Prometheus histogram name and label:
 * - `procedure`: duration of a tRPC call (label `procedure`);
 * - `redis`: one Redis operation group: cache read, rate-limit check, idempotency claim, job
 *   delivery (label `operation`);
 * - `procedure_redis` / `procedure_db`: time one tRPC call spent waiting on Redis / the database.
 */
export const LATENCY_KINDS = {
  procedure: { metric: "hotpath_procedure_duration_seconds", label: "procedure" },
  redis: { metric: "hotpath_redis_operation_duration_seconds", label: "operation" },
  procedure_redis: { metric: "hotpath_procedure_redis_seconds", label: "procedure" },
  procedure_db: { metric: "hotpath_procedure_db_seconds", label: "procedure" },
} as const;
/** One of the keys of {@link LATENCY_KINDS}. */
export type LatencyKind = keyof typeof LATENCY_KINDS;

/** The Redis operation groups timed as `redis` series. */
export const REDIS_OPERATION_GROUPS = [
  "cache_read",
  "ratelimit_check",
  "idempotency_claim",
  "job_delivery",
] as const;
/** One of {@link REDIS_OPERATION_GROUPS}. */
export type RedisOperationGroup = (typeof REDIS_OPERATION_GROUPS)[number];

const KIND_SEPARATOR = "/";

/**
 * Label of a latency series in the minute hashes: `<kind>/<name>` (a procedure path never holds `/`).
 * @example latencySeries("procedure", "streams.status") // "procedure/streams.status"
 */
export function latencySeries(kind: LatencyKind, name: string): string {
  return `${kind}${KIND_SEPARATOR}${name}`;
}

/** Splits a label written by {@link latencySeries}; `undefined` when its kind is unknown. */
export function parseLatencySeries(
  series: string,
): { kind: LatencyKind; name: string } | undefined {
  const cut = series.indexOf(KIND_SEPARATOR);
  if (cut < 0) return undefined;
  const kind = series.slice(0, cut);
  if (!Object.hasOwn(LATENCY_KINDS, kind)) return undefined;
  return { kind: kind as LatencyKind, name: series.slice(cut + 1) };
}
