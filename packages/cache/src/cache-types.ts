import type { KEY_WILDCARD, KeyPart } from "@hotpath/config";
import type { MetricsOption } from "./metrics.ts";
import type { CacheError } from "./errors.ts";
import type { L1Options } from "./l1.ts";
import type { StandardSchema, Ttl } from "./options.ts";
import type { Serializer } from "./serializer.ts";
import type { RedisClient } from "./wire.ts";

/** A cache key: one string (escaped as one part) or several parts (`["user", 42]` → `user:42`). */
export type CacheKey = KeyPart | readonly KeyPart[];

/** What the cache reports through `onEvent` (and counts in its metrics). */
export type CacheEvent =
  | {
      type: "hit" | "miss" | "stale_hit" | "negative_hit";
      namespace: string;
      key: string;
      tier: "l1" | "redis";
    }
  | { type: "load"; namespace: string; key: string; durationMs: number }
  | { type: "load_error"; namespace: string; key: string; error: unknown }
  | {
      type: "lock_wait";
      namespace: string;
      key: string;
      waitedMs: number;
      outcome: "value" | "claimed" | "timeout";
    }
  | { type: "redis_error"; namespace: string; key?: string; operation: string; error: unknown }
  | { type: "invalid_value"; namespace: string; key: string; reason: string }
  | { type: "write_refused"; namespace: string; key: string; error: CacheError }
  /** A loaded value was not stored: the entry was set, deleted or invalidated while it loaded. */
  | { type: "store_refused"; namespace: string; key: string };

/**
 * How one `getOrSet` call was served: `hit` (fresh, L1 or Redis), `stale` (within the SWR window,
 * or L1's copy while Redis is down), `negative` (a cached "not found"), `miss` (this call ran the
 * loader), `coalesced` (it shared another caller's load, in-process or across processes) or
 * `bypass` (Redis was unreachable: the loader's value was served without the cache).
 */
export type CacheOutcome = "hit" | "stale" | "negative" | "miss" | "coalesced" | "bypass";

/** In-process counters of one cache instance (see also the per-minute Redis metrics). */
export interface CacheStats {
  hits: number;
  misses: number;
  staleHits: number;
  negativeHits: number;
  loads: number;
  loadErrors: number;
  lockWaits: number;
  redisErrors: number;
  /** hits (fresh, stale and negative) / (hits + misses); 0 when nothing was read. */
  hitRate: number;
  /** L1 entries and bytes (0 without L1). */
  l1Entries: number;
  l1Bytes: number;
}

/** Options of {@link createCache}. */
export interface CacheOptions {
  /** An `@upstash/redis` client (`HotpathRedis` from `@hotpath/redis`, REST or TCP). */
  redis: RedisClient;
  /** Namespace: the first key part after `<app>:cache:` and the metrics label (e.g. `CACHE_PREFIX.user`). */
  namespace: string;
  /** App prefix of every key. @default "hotpath" */
  app?: string;
  /** TTL of entries when a call gives none. */
  defaultTtl: Ttl;
  /** Optional in-memory tier in front of Redis (bounded LRU, kept coherent across instances). */
  l1?: L1Options | boolean;
  /** @default superjson with a plain-JSON fast path */
  serializer?: Serializer;
  /** Every event (hit, miss, load, errors…), synchronously; must not throw. */
  onEvent?: (event: CacheEvent) => void;
  /** Every Redis call is bounded by this (ms); slower counts as an error and falls through. @default 500 */
  timeoutMs?: number;
  /**
   * After Redis failed (down or timed out), skip it for this long: reads go straight to the
   * loader (or L1) instead of each waiting for a timeout. 0 disables. @default 1000
   */
  circuitBreakerMs?: number;
  /** Values whose serialized form is larger are refused (CACHE_VALUE_TOO_LARGE). @default 1 MiB */
  maxEntryBytes?: number;
  /** Serverless hook: background work (SWR refresh, metrics flush) is handed to it. */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Write per-minute metrics to Redis (`<app>:metrics:cache:<minute>`). @default true */
  metrics?: MetricsOption;
}

/** Stampede protection across processes (distributed single-flight). */
export interface LockOptions {
  /** Lease of the loading caller in ms, renewed every half of it while the loader runs. @default 10_000 */
  leaseMs?: number;
  /** How long the others wait for the value before loading themselves. @default 5_000 */
  waitMs?: number;
  /** First poll interval in ms (doubles up to 100 ms). @default 10 */
  pollMs?: number;
}

/** Options of {@link Cache.getOrSet}. */
export interface GetOrSetOptions<T> {
  /** Fresh TTL. @default the cache's defaultTtl */
  ttl?: Ttl;
  /** Validates values read back; a failing value is a miss, reported and replaced. */
  schema?: StandardSchema<T>;
  /** Tags for {@link Cache.invalidateTag}. */
  tags?: readonly string[];
  /** After the fresh TTL, serve the stale value for this long while one background refresh runs. @default 0 (off) */
  staleWhileRevalidate?: Ttl | false;
  /** Distributed single-flight: `false` to load without a lease. @default true */
  lock?: boolean | LockOptions;
  /** TTL of a cached `null` (negative caching); 0 does not cache null. @default min(ttl, 60 s) */
  negativeTtl?: Ttl;
  /** Shortens each TTL by up to this fraction at random, so keys set together expire apart. @default 0.1 */
  jitter?: number;
  /** Probabilistic early refresh of hot keys (XFetch), with this beta (1 is typical). @default off */
  earlyRefresh?: number | false;
  /** Overrides the cache's waitUntil for this call's background refresh. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** What a `getOrSet` loader receives: adapt the TTL or tags to the value, or skip caching it. */
export interface LoaderContext<T> {
  /** The Redis key of the entry. */
  readonly key: string;
  /** The value being refreshed (stale-while-revalidate or early refresh), else undefined. */
  readonly stale: T | null | undefined;
  /** True for a background refresh (nobody waits for this load). */
  readonly background: boolean;
  /** Overrides the fresh TTL of this value. */
  setTtl(ttl: Ttl): void;
  /** Overrides the tags of this value. */
  setTags(tags: readonly string[]): void;
  /** Returns the value without caching it. */
  skip(): void;
}

/** A `getOrSet` loader (the context is optional to use). */
export type Loader<T> = (context: LoaderContext<T>) => T | Promise<T>;

/** Options of {@link Cache.set}. */
export interface SetOptions {
  ttl?: Ttl;
  tags?: readonly string[];
  /** Stale window after the TTL (served by getOrSet while refreshing). @default 0 */
  staleWhileRevalidate?: Ttl | false;
}

/** Options of {@link Cache.get}. */
export interface GetOptions<T> {
  schema?: StandardSchema<T>;
  /** Also return a value past its fresh TTL (within its stale window). @default false */
  allowStale?: boolean;
}

/** A namespaced cache over Redis with an optional L1 tier. */
export interface Cache {
  /** The namespace. */
  readonly namespace: string;
  /** The value, `null` for a negative-cached entry, `undefined` on a miss (or any Redis failure). */
  get<T = unknown>(key: CacheKey, options?: GetOptions<T>): Promise<T | null | undefined>;
  /** Stores a value (explicit writes invalidate other instances' L1). False when Redis failed (reported). */
  set(key: CacheKey, value: unknown, options?: SetOptions): Promise<boolean>;
  /** Deletes an entry everywhere; true when it existed. */
  delete(key: CacheKey): Promise<boolean>;
  /** True when a fresh or stale entry exists in Redis. */
  exists(key: CacheKey): Promise<boolean>;
  /** Seconds of freshness left (0 when stale), or null when missing. */
  ttl(key: CacheKey): Promise<number | null>;
  /**
   * Cache-aside: the cached value, else the loader's (stored). One Redis round trip on a hit;
   * stampede-protected in-process and across processes; never throws for Redis failures.
   */
  getOrSet<T>(key: CacheKey, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T>;
  /** {@link getOrSet}, also saying how the call was served (for an `X-Cache` header, tests…). */
  getOrSetWithOutcome<T>(
    key: CacheKey,
    loader: Loader<T>,
    options?: GetOrSetOptions<T>,
  ): Promise<{ value: T; outcome: CacheOutcome }>;
  /** Deletes every entry set with `tag` (in batches); returns how many were removed. */
  invalidateTag(tag: string): Promise<number>;
  /**
   * Deletes entries whose key matches `pattern` (SCAN with COUNT + UNLINK in batches, never KEYS):
   * a string where `*` is the only wildcard (the rest is escaped like keys), or parts with
   * `KEY_WILDCARD`. Returns how many were removed.
   */
  invalidatePattern(pattern: string | readonly (KeyPart | typeof KEY_WILDCARD)[]): Promise<number>;
  /** Values of several keys in one round trip (undefined for misses). */
  mget<T = unknown>(
    keys: readonly CacheKey[],
    options?: GetOptions<T>,
  ): Promise<(T | null | undefined)[]>;
  /** Stores several entries in one round trip. */
  mset(
    entries: readonly { key: CacheKey; value: unknown; ttl?: Ttl; tags?: readonly string[] }[],
  ): Promise<boolean>;
  /** Sets hash fields (each value serialized), with an optional TTL on the hash. */
  hashSet(
    key: CacheKey,
    fields: Record<string, unknown>,
    options?: { ttl?: Ttl },
  ): Promise<boolean>;
  /** One hash field, or undefined. */
  hashGet<T = unknown>(key: CacheKey, field: string): Promise<T | undefined>;
  /** Every field of a hash ({} when missing). */
  hashGetAll<T = unknown>(key: CacheKey): Promise<Record<string, T>>;
  /** Atomically adds `by` to a counter (`<app>:count:<ns>:<key>`); the TTL is set when it is created. */
  increment(key: CacheKey, by?: number, options?: { ttl?: Ttl }): Promise<number>;
  /** {@link increment} by `-by`. */
  decrement(key: CacheKey, by?: number, options?: { ttl?: Ttl }): Promise<number>;
  /** Wraps a function: its result is cached under the key built from its arguments. */
  cached<A extends unknown[], T>(
    fn: (...args: A) => T | Promise<T>,
    options: GetOrSetOptions<T> & { key: (...args: A) => CacheKey },
  ): (...args: A) => Promise<T>;
  /** In-process counters. */
  stats(): CacheStats;
  /** Flushes metrics to Redis now. */
  flushMetrics(): Promise<void>;
  /**
   * Resolves once this instance receives other instances' L1 invalidations (its pub/sub
   * subscription is confirmed); at once without L1 or without the bus.
   */
  ready(): Promise<void>;
  /** Stops the bus subscription and the metrics timer (flushes them). */
  close(): Promise<void>;
}
