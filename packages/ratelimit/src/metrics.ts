import {
  METRICS_HOUR_MS,
  METRICS_HOUR_RETENTION_SECONDS,
  METRICS_MINUTE_RETENTION_SECONDS,
  hourBucket,
  metricsField,
  metricsMinuteKey,
  metricsTopKey,
  minuteBucket,
  minuteBucketStartMs,
  minuteBuckets,
  parseMetricsField,
} from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import { RateLimitError } from "./errors.ts";
import { isTimeout, withTimeout } from "./guard.ts";
import { outsideTraces } from "@hotpath/redis/tracing";

/** Counter names (Prometheus style) stored per policy per minute. */
export const RATE_LIMIT_COUNTERS = {
  allowed: "ratelimit_allowed_total",
  blocked: "ratelimit_blocked_total",
  fallback: "ratelimit_fallback_total",
} as const;
/** One of the keys of {@link RATE_LIMIT_COUNTERS}. */
export type RateLimitCounter = keyof typeof RATE_LIMIT_COUNTERS;

/** The metrics group of the rate limiter (`<app>:metrics:ratelimit:…`, see `@hotpath/config`). */
export const RATE_LIMIT_METRICS_GROUP = "ratelimit";

// Readers read at most one day of minutes (plus the current one) per call: one pipeline of HGETALL.
const MAX_READ_MINUTES = 1441;

/** Counts of one policy over a span. */
export interface PolicyUsage {
  allowed: number;
  blocked: number;
  fallback: number;
}

/** Options of {@link MetricsRecorder}. */
export interface MetricsOptions {
  /** Minimum time between two flushes (counts are batched in memory meanwhile). @default 5000 */
  flushIntervalMs?: number;
  /** TTL of the per-minute hashes. @default 172800 (48 h, `METRICS_MINUTE_RETENTION_SECONDS`) */
  minuteRetentionSeconds?: number;
  /** TTL of the hourly top-identifier sets. @default 691200 (8 days, `METRICS_HOUR_RETENTION_SECONDS`) */
  hourRetentionSeconds?: number;
  /** Distinct identifiers held between flushes (beyond: left out of the top lists, counted in `droppedIdentifiers`). @default 2000 */
  maxIdentifiersPerFlush?: number;
}

/**
 * Batches decisions in memory and writes them with ONE pipeline at most every
 * `flushIntervalMs` (5 s) (HINCRBY per policy/counter into the minute hash, ZINCRBY per identifier
 * into the hour sets, EXPIRE for retention). The flush rides on a result's `pending`, so it
 * is off the critical path; N instances add up in Redis.
 */
export class MetricsRecorder {
  readonly #redis: Redis;
  readonly #app: string;
  readonly #flushIntervalMs: number;
  readonly #minuteTtl: number;
  readonly #hourTtl: number;
  readonly #maxIdentifiers: number;
  readonly #timeoutMs: number;
  readonly #onError: (operation: string, error: unknown) => void;
  // minute number -> "<policy>|<counter name>" -> count
  #counters = new Map<number, Map<string, number>>();
  // hour number -> "allowed" | "blocked" -> identifier -> count
  #top = new Map<number, { allowed: Map<string, number>; blocked: Map<string, number> }>();
  #topSize = 0;
  readonly #fields = new Map<string, Record<RateLimitCounter, string>>();
  #lastFlush = Date.now();
  #flushing: Promise<void> | undefined;
  /** Identifiers left out of the top lists because the batch was full. */
  droppedIdentifiers = 0;

  constructor(
    redis: Redis,
    app: string,
    options: MetricsOptions & {
      timeoutMs: number;
      onError: (operation: string, error: unknown) => void;
    },
  ) {
    this.#redis = redis;
    this.#app = app;
    this.#flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.#minuteTtl = options.minuteRetentionSeconds ?? METRICS_MINUTE_RETENTION_SECONDS;
    this.#hourTtl = options.hourRetentionSeconds ?? METRICS_HOUR_RETENTION_SECONDS;
    this.#maxIdentifiers = options.maxIdentifiersPerFlush ?? 2000;
    this.#timeoutMs = options.timeoutMs;
    this.#onError = options.onError;
  }

  private fieldsOf(policy: string): Record<RateLimitCounter, string> {
    let fields = this.#fields.get(policy);
    if (!fields) {
      fields = {
        allowed: metricsField(policy, RATE_LIMIT_COUNTERS.allowed),
        blocked: metricsField(policy, RATE_LIMIT_COUNTERS.blocked),
        fallback: metricsField(policy, RATE_LIMIT_COUNTERS.fallback),
      };
      if (this.#fields.size > 10_000) this.#fields.clear();
      this.#fields.set(policy, fields);
    }
    return fields;
  }

  /** Counts one decision of one policy (and, for allowed/blocked, the identifier's hourly score). */
  record(
    policy: string,
    counter: RateLimitCounter,
    identifier: string | undefined,
    now = Date.now(),
  ): void {
    this.add(minuteBucket(now), this.fieldsOf(policy)[counter], 1);
    if (identifier !== undefined && counter !== "fallback") {
      this.addTop(hourBucket(now), counter, identifier, 1);
    }
  }

  private add(minute: number, field: string, count: number): void {
    let fields = this.#counters.get(minute);
    if (!fields) {
      fields = new Map();
      this.#counters.set(minute, fields);
    }
    fields.set(field, (fields.get(field) ?? 0) + count);
  }

  private addTop(
    hour: number,
    kind: "allowed" | "blocked",
    identifier: string,
    count: number,
  ): void {
    let lists = this.#top.get(hour);
    if (!lists) {
      lists = { allowed: new Map(), blocked: new Map() };
      this.#top.set(hour, lists);
    }
    const list = lists[kind];
    const current = list.get(identifier);
    if (current !== undefined) list.set(identifier, current + count);
    else if (this.#topSize < this.#maxIdentifiers) {
      list.set(identifier, count);
      this.#topSize++;
    } else this.droppedIdentifiers++;
  }

  /** Flushes when the interval has passed and something is batched; the promise never rejects. */
  flushIfDue(now = Date.now(), redisUsable = true): Promise<void> | undefined {
    if (this.#flushing || now - this.#lastFlush < this.#flushIntervalMs || !redisUsable)
      return undefined;
    if (this.#counters.size === 0 && this.#top.size === 0) return undefined;
    return this.flush();
  }

  /**
   * Writes everything batched now (one pipeline). A batch whose write failed is kept for the next
   * flush; one that timed out is dropped and reported (Redis may have applied it: written again,
   * it would count twice).
   */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => this.flush());
    if (this.#counters.size === 0 && this.#top.size === 0) return Promise.resolve();
    this.#lastFlush = Date.now();
    const counters = this.#counters;
    const top = this.#top;
    this.#counters = new Map();
    this.#top = new Map();
    this.#topSize = 0;
    // Batched counts of many calls: not part of whichever call's trace triggered the flush.
    this.#flushing = outsideTraces(() => this.write(counters, top))
      .catch((error: unknown) => {
        if (isTimeout(error)) {
          this.#onError(
            "metrics.flush",
            new RateLimitError(
              "RATELIMIT_STORE_ERROR",
              "metrics flush timed out: its counts are dropped, not written again (Redis may have applied them)",
              { cause: error },
            ),
          );
          return;
        }
        this.#onError("metrics.flush", error);
        // Kept for the next flush (bounded like any batch).
        for (const [minute, fields] of counters)
          for (const [field, count] of fields) this.add(minute, field, count);
        for (const [hour, lists] of top) {
          for (const [identifier, count] of lists.allowed)
            this.addTop(hour, "allowed", identifier, count);
          for (const [identifier, count] of lists.blocked)
            this.addTop(hour, "blocked", identifier, count);
        }
      })
      .finally(() => {
        this.#flushing = undefined;
      });
    return this.#flushing;
  }

  private async write(
    counters: Map<number, Map<string, number>>,
    top: Map<number, { allowed: Map<string, number>; blocked: Map<string, number> }>,
  ): Promise<void> {
    const pipeline = this.#redis.pipeline();
    const expire: [string, number][] = [];
    for (const [minute, fields] of counters) {
      const key = metricsMinuteKey(this.#app, RATE_LIMIT_METRICS_GROUP, minute);
      for (const [field, count] of fields) pipeline.hincrby(key, field, count);
      expire.push([key, this.#minuteTtl]);
    }
    for (const [hour, lists] of top) {
      for (const kind of ["allowed", "blocked"] as const) {
        if (lists[kind].size === 0) continue;
        const key = metricsTopKey(this.#app, RATE_LIMIT_METRICS_GROUP, kind, hour);
        for (const [identifier, count] of lists[kind]) pipeline.zincrby(key, count, identifier);
        expire.push([key, this.#hourTtl]);
      }
    }
    for (const [key, ttl] of expire) pipeline.expire(key, ttl);
    await withTimeout(pipeline.exec(), this.#timeoutMs * 2, "metrics flush");
  }
}

/** Options of the metric readers. */
export interface UsageQuery {
  /** App prefix of the keys. @default "hotpath" */
  app?: string;
  /** Start of the span (ms epoch). @default now - 1 h */
  since?: number;
  /** End of the span (ms epoch). @default now */
  until?: number;
}

/** The minute numbers of a query's span. */
function minutesOf(query: UsageQuery): number[] {
  const until = query.until ?? Date.now();
  const since = query.since ?? until - METRICS_HOUR_MS;
  return minuteBuckets(since, until, MAX_READ_MINUTES);
}

function addField(into: Record<string, PolicyUsage>, field: string, value: unknown): void {
  const parsed = parseMetricsField(field);
  if (!parsed) return;
  const policy = parsed.label;
  const counter = Object.entries(RATE_LIMIT_COUNTERS).find(
    ([, name]) => name === parsed.counter,
  )?.[0] as RateLimitCounter | undefined;
  if (!counter) return;
  const usage = (into[policy] ??= { allowed: 0, blocked: 0, fallback: 0 });
  usage[counter] += Number(value) || 0;
}

/** Reads the per-minute hashes of a span (one pipeline, at most 1 day of minutes). */
async function readMinutes(
  redis: Redis,
  app: string,
  minutes: number[],
): Promise<(Record<string, unknown> | null)[]> {
  if (minutes.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const minute of minutes)
    pipeline.hgetall(metricsMinuteKey(app, RATE_LIMIT_METRICS_GROUP, minute));
  return pipeline.exec<(Record<string, unknown> | null)[]>();
}

/**
 * Allowed / blocked / fallback decisions per policy over a span (default: the last hour),
 * summed over every instance.
 * @example await getUsage(redis, { app: "hotpath", since: Date.now() - 15 * 60_000 })
 */
export async function getUsage(
  redis: Redis,
  query: UsageQuery = {},
): Promise<Record<string, PolicyUsage>> {
  const app = query.app ?? "hotpath";
  const rows = await readMinutes(redis, app, minutesOf(query));
  const usage: Record<string, PolicyUsage> = {};
  for (const row of rows)
    for (const [field, value] of Object.entries(row ?? {})) addField(usage, field, value);
  return usage;
}

/** Per-minute allowed / blocked / fallback decisions per policy (oldest first), for charts. */
export async function getUsageOverTime(
  redis: Redis,
  query: UsageQuery = {},
): Promise<{ time: number; policies: Record<string, PolicyUsage> }[]> {
  const app = query.app ?? "hotpath";
  const minutes = minutesOf(query);
  const rows = await readMinutes(redis, app, minutes);
  return minutes.map((minute, index) => {
    const policies: Record<string, PolicyUsage> = {};
    for (const [field, value] of Object.entries(rows[index] ?? {}))
      addField(policies, field, value);
    return { time: minuteBucketStartMs(minute), policies };
  });
}

/**
 * The identifiers with the most blocked (or allowed) decisions over the last `hours` hours
 * (hashed identifiers, no PII).
 */
export async function topIdentifiers(
  redis: Redis,
  query: {
    app?: string;
    kind?: "allowed" | "blocked";
    hours?: number;
    limit?: number;
    now?: number;
  } = {},
): Promise<{ identifier: string; count: number }[]> {
  const app = query.app ?? "hotpath";
  const now = query.now ?? Date.now();
  const hours = Math.min(Math.max(1, Math.floor(query.hours ?? 1)), 192);
  const limit = Math.min(Math.max(1, Math.floor(query.limit ?? 10)), 1000);
  const hour = hourBucket(now);
  const keys = Array.from({ length: hours }, (_, i) =>
    metricsTopKey(app, RATE_LIMIT_METRICS_GROUP, query.kind ?? "blocked", hour - i),
  );
  // One pipeline of ZRANGE WITHSCORES (one flat [member, score, …] list per hour), summed here:
  // the hours' keys are in different Redis Cluster slots, where one ZUNION over them is CROSSSLOT.
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.zrange(key, 0, -1, { withScores: true });
  const lists = await pipeline.exec<unknown[][]>();
  const counts = new Map<string, number>();
  for (const list of lists) {
    for (let i = 0; i + 1 < list.length; i += 2) {
      const identifier = String(list[i]);
      counts.set(identifier, (counts.get(identifier) ?? 0) + Number(list[i + 1]));
    }
  }
  const entries = [...counts].map(([identifier, count]) => ({ identifier, count }));
  return entries
    .sort((a, b) => b.count - a.count || a.identifier.localeCompare(b.identifier))
    .slice(0, limit);
}
