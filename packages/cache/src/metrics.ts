import {
  METRICS_MINUTE_RETENTION_SECONDS,
  metricsField,
  metricsMinuteKey,
  minuteBucket,
  minuteBucketStartMs,
  minuteBuckets,
  parseMetricsField,
  type MetricsGroup,
} from "@hotpath/config";
import { createWire, type RedisClient, type Wire } from "./wire.ts";
import { outsideTraces } from "@hotpath/redis/tracing";

/** Counters of the cache engine, per namespace per minute. */
export const CACHE_COUNTERS = [
  "cache_hits_total",
  "cache_misses_total",
  "cache_stale_hits_total",
  "cache_negative_hits_total",
  "cache_loads_total",
  "cache_load_errors_total",
  "cache_lock_waits_total",
  "cache_redis_errors_total",
] as const;
/** One of {@link CACHE_COUNTERS}. */
export type CacheCounter = (typeof CACHE_COUNTERS)[number];

/** Counters of the idempotency store, per store name per minute. */
export const IDEMPOTENCY_COUNTERS = [
  "idempotency_first_total",
  "idempotency_replays_total",
  "idempotency_conflicts_total",
  "idempotency_mismatches_total",
  "idempotency_released_total",
  "idempotency_redis_errors_total",
] as const;
/** One of {@link IDEMPOTENCY_COUNTERS}. */
export type IdempotencyCounter = (typeof IDEMPOTENCY_COUNTERS)[number];

/** Counters of locks, per lock group per minute. */
export const LOCK_COUNTERS = [
  "lock_acquired_total",
  "lock_contended_total",
  "lock_timeouts_total",
  "lock_released_total",
  "lock_lost_total",
  "lock_redis_errors_total",
] as const;
/** One of {@link LOCK_COUNTERS}. */
export type LockCounter = (typeof LOCK_COUNTERS)[number];

/** Options of {@link createMetricsRecorder}. */
export interface MetricsRecorderOptions {
  redis: RedisClient;
  /** App prefix of the keys. */
  app: string;
  /** The group of the buckets (`@hotpath/config` metrics keys), e.g. "cache". */
  group: MetricsGroup;
  /**
   * Flush interval in ms (a timer, unref'd on Node). 0 flushes only on demand / when the buffer is
   * full — or, with `waitUntil`, at the end of the current tick. @default 1000 (0 with waitUntil)
   */
  flushIntervalMs?: number;
  /** At most this many distinct (minute, label, counter) cells are buffered; the buffer flushes when full. @default 1000 */
  maxBufferedCells?: number;
  /** Serverless: receives every flush promise (e.g. the platform's `waitUntil`). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Retention of the buckets in seconds. @default 48 h */
  retentionSeconds?: number;
  /** Timeout of the flush pipeline in ms. @default 1000 */
  timeoutMs?: number;
  /** Called when a flush fails (the counts of that flush are dropped, never retried forever). */
  onFlushError?: (error: unknown) => void;
}

/**
 * Buffers counter increments in memory and writes them off the critical path: one pipeline of
 * HINCRBY + EXPIRE per flush, so N instances add up in the same per-minute hashes.
 */
export interface MetricsRecorder {
  /** Adds `by` to `counter` of `label` in the current minute (no I/O). */
  count(label: string, counter: string, by?: number): void;
  /** Writes everything buffered now (one round trip); never throws. */
  flush(): Promise<void>;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
  /** Counts since the recorder was created (in-process), per label and counter. */
  totals(): Record<string, Record<string, number>>;
}

/** Creates a {@link MetricsRecorder}. */
export function createMetricsRecorder(options: MetricsRecorderOptions): MetricsRecorder {
  const wire: Wire = createWire(options.redis, options.timeoutMs ?? 1000);
  const retention = options.retentionSeconds ?? METRICS_MINUTE_RETENTION_SECONDS;
  const maxCells = options.maxBufferedCells ?? 1000;
  // Serverless (waitUntil): flush at the end of the current tick, one pipeline per burst.
  const interval = options.flushIntervalMs ?? (options.waitUntil ? 0 : 1000);
  let buffer = new Map<number, Map<string, number>>();
  let cells = 0;
  const totals: Record<string, Record<string, number>> = {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const fieldNames = new Map<string, Map<string, string>>();
  let currentMinute = 0;
  let currentMinuteEndsAt = 0;

  let scheduledDone: (() => void) | undefined;
  const schedule = () => {
    if (timer !== undefined || (interval <= 0 && !options.waitUntil)) return;
    let flushed: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (flushed = resolve));
    scheduledDone = flushed;
    timer = setTimeout(
      () => {
        timer = undefined;
        scheduledDone = undefined;
        void flush().finally(flushed);
      },
      Math.max(0, interval),
    );
    (timer as { unref?: () => void }).unref?.();
    options.waitUntil?.(done);
  };

  const flush = (): Promise<void> => {
    if (cells === 0) return inFlight;
    const pending = buffer;
    buffer = new Map();
    cells = 0;
    const commands: string[][] = [];
    for (const [minute, fields] of pending) {
      const key = metricsMinuteKey(options.app, options.group, minute);
      for (const [field, by] of fields) commands.push(["HINCRBY", key, field, String(by)]);
      commands.push(["EXPIRE", key, String(retention)]);
    }
    const run = inFlight.then(async () => {
      try {
        // Batched counts of many calls: not part of whichever call's trace scheduled the flush.
        const replies = await outsideTraces(() => wire.pipeline(commands));
        const failed = replies.find((reply) => !reply.ok);
        if (failed && !failed.ok) options.onFlushError?.(new Error(failed.error));
      } catch (error) {
        options.onFlushError?.(error);
      }
    });
    inFlight = run;
    options.waitUntil?.(run);
    return run;
  };

  return {
    count(label, counter, by = 1) {
      // Field strings are interned per (label, counter): no concatenation or rehash per event.
      let fieldsOfLabel = fieldNames.get(label);
      if (!fieldsOfLabel) fieldNames.set(label, (fieldsOfLabel = new Map<string, string>()));
      let field = fieldsOfLabel.get(counter);
      if (field === undefined) fieldsOfLabel.set(counter, (field = metricsField(label, counter)));
      const byLabel = (totals[label] ??= {});
      byLabel[counter] = (byLabel[counter] ?? 0) + by;
      const now = Date.now();
      if (now >= currentMinuteEndsAt) {
        currentMinute = minuteBucket(now);
        currentMinuteEndsAt = minuteBucketStartMs(currentMinute + 1);
      }
      const minute = currentMinute;
      let fields = buffer.get(minute);
      if (!fields) buffer.set(minute, (fields = new Map<string, number>()));
      const before = fields.get(field);
      if (before === undefined) cells += 1;
      fields.set(field, (before ?? 0) + by);
      if (cells >= maxCells) void flush();
      else schedule();
    },
    flush,
    async close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await flush();
      scheduledDone?.();
      scheduledDone = undefined;
    },
    totals: () => structuredClone(totals),
  };
}

/** The `metrics` option of the cache, the idempotency store and locks. */
export type MetricsOption = boolean | { flushIntervalMs?: number };

/**
 * The recorder behind a `metrics` option: `undefined` when it is `false`, else a recorder of
 * `group` (flush interval from the option).
 */
export function createOptionalRecorder(
  group: MetricsGroup,
  options: Pick<MetricsRecorderOptions, "redis" | "app" | "waitUntil" | "timeoutMs"> & {
    metrics?: MetricsOption;
  },
): MetricsRecorder | undefined {
  if (options.metrics === false) return undefined;
  return createMetricsRecorder({
    redis: options.redis,
    app: options.app,
    group,
    flushIntervalMs:
      typeof options.metrics === "object" ? options.metrics.flushIntervalMs : undefined,
    waitUntil: options.waitUntil,
    timeoutMs: options.timeoutMs,
  });
}

/** One row of a metrics reader: the counts of one label in one minute. */
export interface MetricsRow<TCounter extends string> {
  /** Start of the minute (epoch ms). */
  minuteStartMs: number;
  /** Namespace (cache), store name (idempotency) or lock group. */
  label: string;
  counters: Record<TCounter, number>;
}

/** Options of the metrics readers. */
export interface ReadMetricsOptions {
  app: string;
  /** Start of the range (epoch ms, inclusive). */
  sinceMs: number;
  /** End of the range (epoch ms, inclusive). @default now */
  untilMs?: number;
  /** Timeout in ms. @default 2000 */
  timeoutMs?: number;
}

const MAX_MINUTES = METRICS_MINUTE_RETENTION_SECONDS / 60;

/**
 * Reads the per-minute, per-label counters of one group (one round trip: a pipeline of HGETALL).
 * At most the retention window (48 h of minutes) is read.
 */
export async function readMetrics<TCounter extends string>(
  redis: RedisClient,
  group: MetricsGroup,
  counterNames: readonly TCounter[],
  options: ReadMetricsOptions,
): Promise<MetricsRow<TCounter>[]> {
  const minutes = minuteBuckets(options.sinceMs, options.untilMs ?? Date.now(), MAX_MINUTES);
  if (minutes.length === 0) return [];
  const wire = createWire(redis, options.timeoutMs ?? 2000);
  const replies = await wire.pipeline(
    minutes.map((m) => ["HGETALL", metricsMinuteKey(options.app, group, m)]),
  );
  const rows: MetricsRow<TCounter>[] = [];
  replies.forEach((reply, index) => {
    if (!reply.ok || !Array.isArray(reply.value) || reply.value.length === 0) return;
    const flat = reply.value as unknown[];
    const byLabel = new Map<string, Record<TCounter, number>>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field = parseMetricsField(String(flat[i]));
      if (!field) continue;
      const { label } = field;
      const counter = field.counter as TCounter;
      if (!counterNames.includes(counter)) continue;
      let counters = byLabel.get(label);
      if (!counters) {
        counters = Object.fromEntries(counterNames.map((name) => [name, 0])) as Record<
          TCounter,
          number
        >;
        byLabel.set(label, counters);
      }
      counters[counter] = Number(flat[i + 1]) || 0;
    }
    const minuteStartMs = minuteBucketStartMs(minutes[index] as number);
    for (const [label, counters] of byLabel) rows.push({ minuteStartMs, label, counters });
  });
  return rows;
}

/** A row of {@link readCacheMetrics}: `namespace` repeats `label`. */
export type CacheMetricsRow = MetricsRow<CacheCounter> & { namespace: string };

/** Cache metrics per minute per namespace (one round trip). */
export async function readCacheMetrics(
  redis: RedisClient,
  options: ReadMetricsOptions,
): Promise<CacheMetricsRow[]> {
  const rows = await readMetrics(redis, "cache", CACHE_COUNTERS, options);
  return rows.map((row) => ({ ...row, namespace: row.label }));
}

/** Idempotency metrics per minute per store name. */
export function readIdempotencyMetrics(
  redis: RedisClient,
  options: ReadMetricsOptions,
): Promise<MetricsRow<IdempotencyCounter>[]> {
  return readMetrics(redis, "idempotency", IDEMPOTENCY_COUNTERS, options);
}

/** Lock metrics per minute per lock group. */
export function readLockMetrics(
  redis: RedisClient,
  options: ReadMetricsOptions,
): Promise<MetricsRow<LockCounter>[]> {
  return readMetrics(redis, "lock", LOCK_COUNTERS, options);
}
