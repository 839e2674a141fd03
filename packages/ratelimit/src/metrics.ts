import { buildKey } from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import { withTimeout } from "./guard.ts";

/** Counter names (Prometheus style) stored per policy per minute. */
export const RATE_LIMIT_COUNTERS = {
  allowed: "ratelimit_allowed_total",
  blocked: "ratelimit_blocked_total",
  fallback: "ratelimit_fallback_total",
} as const;
/** One of the keys of {@link RATE_LIMIT_COUNTERS}. */
export type RateLimitCounter = keyof typeof RATE_LIMIT_COUNTERS;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Counts of one policy over a span. */
export interface PolicyUsage {
  allowed: number;
  blocked: number;
  fallback: number;
}

/** Key of the per-minute counters hash: `<app>:metrics:rl:<minute start, ms epoch>`. */
export function minuteMetricsKey(app: string, minuteStartMs: number): string {
  return buildKey(app, "metrics", "rl", minuteStartMs);
}

/** Key of an hourly top-identifiers sorted set: `<app>:metrics:rl:top:<allowed|blocked>:<hour start, ms epoch>`. */
export function topIdentifiersKey(
  app: string,
  kind: "allowed" | "blocked",
  hourStartMs: number,
): string {
  return buildKey(app, "metrics", "rl", "top", kind, hourStartMs);
}

/** Options of {@link MetricsRecorder}. */
export interface MetricsOptions {
  /** Minimum time between two flushes (counts are batched in memory meanwhile). @default 5000 */
  flushIntervalMs?: number;
  /** TTL of the per-minute hashes. @default 172800 (2 days) */
  minuteRetentionSeconds?: number;
  /** TTL of the hourly top-identifier sets. @default 691200 (8 days) */
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
  // minute start -> "<policy>|<counter name>" -> count
  #counters = new Map<number, Map<string, number>>();
  // hour start -> "allowed" | "blocked" -> identifier -> count
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
    this.#minuteTtl = options.minuteRetentionSeconds ?? 172_800;
    this.#hourTtl = options.hourRetentionSeconds ?? 691_200;
    this.#maxIdentifiers = options.maxIdentifiersPerFlush ?? 2000;
    this.#timeoutMs = options.timeoutMs;
    this.#onError = options.onError;
  }

  private fieldsOf(policy: string): Record<RateLimitCounter, string> {
    let fields = this.#fields.get(policy);
    if (!fields) {
      fields = {
        allowed: `${policy}|${RATE_LIMIT_COUNTERS.allowed}`,
        blocked: `${policy}|${RATE_LIMIT_COUNTERS.blocked}`,
        fallback: `${policy}|${RATE_LIMIT_COUNTERS.fallback}`,
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
    this.add(Math.floor(now / MINUTE_MS) * MINUTE_MS, this.fieldsOf(policy)[counter], 1);
    if (identifier !== undefined && counter !== "fallback") {
      this.addTop(Math.floor(now / HOUR_MS) * HOUR_MS, counter, identifier, 1);
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

  /** Writes everything batched now (one pipeline); failed batches are kept for the next flush. */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => this.flush());
    if (this.#counters.size === 0 && this.#top.size === 0) return Promise.resolve();
    this.#lastFlush = Date.now();
    const counters = this.#counters;
    const top = this.#top;
    this.#counters = new Map();
    this.#top = new Map();
    this.#topSize = 0;
    this.#flushing = this.write(counters, top)
      .catch((error: unknown) => {
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
      const key = minuteMetricsKey(this.#app, minute);
      for (const [field, count] of fields) pipeline.hincrby(key, field, count);
      expire.push([key, this.#minuteTtl]);
    }
    for (const [hour, lists] of top) {
      for (const kind of ["allowed", "blocked"] as const) {
        if (lists[kind].size === 0) continue;
        const key = topIdentifiersKey(this.#app, kind, hour);
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

function minutesOf(query: UsageQuery): number[] {
  const until = query.until ?? Date.now();
  const since = query.since ?? until - HOUR_MS;
  const first = Math.floor(since / MINUTE_MS) * MINUTE_MS;
  const last = Math.floor(until / MINUTE_MS) * MINUTE_MS;
  const minutes: number[] = [];
  for (let m = Math.max(first, last - 1440 * MINUTE_MS); m <= last; m += MINUTE_MS) minutes.push(m);
  return minutes;
}

function addField(into: Record<string, PolicyUsage>, field: string, value: unknown): void {
  const bar = field.lastIndexOf("|");
  if (bar < 0) return;
  const policy = field.slice(0, bar);
  const counter = Object.entries(RATE_LIMIT_COUNTERS).find(
    ([, name]) => name === field.slice(bar + 1),
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
  for (const minute of minutes) pipeline.hgetall(minuteMetricsKey(app, minute));
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
  return minutes.map((time, index) => {
    const policies: Record<string, PolicyUsage> = {};
    for (const [field, value] of Object.entries(rows[index] ?? {}))
      addField(policies, field, value);
    return { time, policies };
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
  const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const keys = Array.from({ length: hours }, (_, i) =>
    topIdentifiersKey(app, query.kind ?? "blocked", hour - i * HOUR_MS),
  );
  // ZUNION WITHSCORES answers a flat [member, score, …] list in ascending score order.
  const list = (await redis.zunion(keys.length, keys, { withScores: true })) as unknown[];
  const entries: { identifier: string; count: number }[] = [];
  for (let i = 0; i + 1 < list.length; i += 2)
    entries.push({ identifier: String(list[i]), count: Number(list[i + 1]) });
  return entries
    .sort((a, b) => b.count - a.count || a.identifier.localeCompare(b.identifier))
    .slice(0, limit);
}
