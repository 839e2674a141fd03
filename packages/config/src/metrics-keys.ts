import { ConfigError } from "./errors.ts";
import { buildKey, keyPattern, KEY_WILDCARD } from "./keys.ts";

/**
 * The metric groups: one per subsystem, named like the prefix of its counters
 * (`cache_hits_total`, `idempotency_replays_total`, `lock_acquired_total`, `ratelimit_blocked_total`,
 * `jobs_delivered_total`), plus `latency`: the histogram buckets of ./latency-buckets.ts.
 */
export const METRICS_GROUPS = [
  "cache",
  "idempotency",
  "lock",
  "ratelimit",
  "jobs",
  "latency",
] as const;
/** One of {@link METRICS_GROUPS}. */
export type MetricsGroup = (typeof METRICS_GROUPS)[number];

/** Length of a minute bucket in ms. */
export const METRICS_MINUTE_MS = 60_000;
/** Length of an hour bucket in ms. */
export const METRICS_HOUR_MS = 3_600_000;
/** Default retention of a minute bucket (48 h). */
export const METRICS_MINUTE_RETENTION_SECONDS = 48 * 3600;
/** Default retention of an hour bucket (8 days: a week's top lists plus a day's slack). */
export const METRICS_HOUR_RETENTION_SECONDS = 8 * 24 * 3600;
/** Separator of a bucket field `<label>|<counter>` (counter names never contain it). */
export const METRICS_FIELD_SEPARATOR = "|";

/**
 * The minute bucket a timestamp falls in: the minute NUMBER `floor(epochMs / 60000)` (not ms).
 * This is the last key part of every minute bucket, for every group.
 * @example minuteBucket(Date.UTC(2026, 0, 1, 0, 1, 30)) // 29453761
 */
export function minuteBucket(epochMs: number): number {
  return Math.floor(epochMs / METRICS_MINUTE_MS);
}

/** Start (epoch ms) of a minute bucket: the inverse of {@link minuteBucket} on minute starts. */
export function minuteBucketStartMs(minute: number): number {
  return minute * METRICS_MINUTE_MS;
}

/**
 * The hour bucket a timestamp falls in: the hour NUMBER `floor(epochMs / 3600000)` (not ms).
 * @example hourBucket(Date.UTC(2026, 0, 1, 1, 59)) // 490897
 */
export function hourBucket(epochMs: number): number {
  return Math.floor(epochMs / METRICS_HOUR_MS);
}

/** Start (epoch ms) of an hour bucket: the inverse of {@link hourBucket} on hour starts. */
export function hourBucketStartMs(hour: number): number {
  return hour * METRICS_HOUR_MS;
}

/**
 * The minute buckets from `sinceMs` to `untilMs` (both inclusive), oldest first, capped to the
 * newest `maxBuckets` (readers bound their pipeline with it). Empty when `sinceMs > untilMs`.
 * @example minuteBuckets(0, 150_000, 10) // [0, 1, 2]
 */
export function minuteBuckets(sinceMs: number, untilMs: number, maxBuckets: number): number[] {
  const last = minuteBucket(untilMs);
  const first = Math.max(minuteBucket(sinceMs), last - Math.max(0, Math.floor(maxBuckets)) + 1);
  const minutes: number[] = [];
  for (let minute = first; minute <= last; minute += 1) minutes.push(minute);
  return minutes;
}

function checkBucket(bucket: number): number {
  if (!Number.isSafeInteger(bucket) || bucket < 0) {
    throw new ConfigError(
      "CONFIG_INVALID_KEY",
      `Invalid metrics bucket ${bucket}: use a minute or hour number (a non-negative integer).`,
    );
  }
  return bucket;
}

/**
 * Key of one minute bucket, a hash of `<label>|<counter>` -> count:
 * `<app>:metrics:<group>:<minute number>`.
 * @example metricsMinuteKey("hotpath", "cache", minuteBucket(Date.now())) // "hotpath:metrics:cache:29…"
 */
export function metricsMinuteKey(app: string, group: MetricsGroup, minute: number): string {
  return buildKey(app, "metrics", group, checkBucket(minute));
}

/**
 * Key of one hourly ranking, a sorted set of member -> count:
 * `<app>:metrics:<group>:top:<ranking>:<hour number>`.
 * @example metricsTopKey("hotpath", "ratelimit", "blocked", hourBucket(Date.now()))
 */
export function metricsTopKey(
  app: string,
  group: MetricsGroup,
  ranking: string,
  hour: number,
): string {
  return buildKey(app, "metrics", group, "top", ranking, checkBucket(hour));
}

/**
 * SCAN pattern of every metrics key of a group (minute buckets and rankings).
 * @example metricsKeyPattern("hotpath", "ratelimit") // "hotpath:metrics:ratelimit:*"
 */
export function metricsKeyPattern(app: string, group: MetricsGroup): string {
  return keyPattern(app, "metrics", group, KEY_WILDCARD);
}

/**
 * Field of a minute bucket: `<label>|<counter>` (label = namespace, policy, store or lock group).
 * @example metricsField("user", "cache_hits_total") // "user|cache_hits_total"
 */
export function metricsField(label: string, counter: string): string {
  return `${label}${METRICS_FIELD_SEPARATOR}${counter}`;
}

/**
 * Splits a field written by {@link metricsField} at its LAST separator (a label may contain `|`,
 * a counter name never does); `undefined` when there is none.
 */
export function parseMetricsField(field: string): { label: string; counter: string } | undefined {
  const cut = field.lastIndexOf(METRICS_FIELD_SEPARATOR);
  if (cut < 0) return undefined;
  return { label: field.slice(0, cut), counter: field.slice(cut + 1) };
}
