/**
 * The public API of `@hotpath/cache`: the cache, coordination primitives, their errors and
 * metrics readers. Building blocks for other Hotpath packages live in `@hotpath/cache/internal`.
 */
export { createCache } from "./cache.ts";
export { cacheEntryKey, SLOT_GROUPS } from "./cache-context.ts";
export type {
  Cache,
  CacheEvent,
  CacheOutcome,
  CacheKey,
  CacheOptions,
  CacheStats,
  GetOptions,
  GetOrSetOptions,
  Loader,
  LoaderContext,
  LockOptions,
  SetOptions,
} from "./cache-types.ts";
export {
  CacheError,
  RedisUnavailableError,
  RedisCommandError,
  LockError,
  IdempotencyKeyError,
  IdempotencyInFlightError,
  IdempotencyMismatchError,
  IdempotencyUnavailableError,
  isCacheError,
  type CacheErrorCode,
} from "./errors.ts";
export {
  readCacheMetrics,
  readIdempotencyMetrics,
  readLockMetrics,
  type CacheCounter,
  type CacheMetricsRow,
  type IdempotencyCounter,
  type LockCounter,
  type MetricsOption,
  type MetricsRow,
  type ReadMetricsOptions,
} from "./metrics.ts";
export {
  addToHistogram,
  createLatencyRecorder,
  emptyHistogram,
  histogramQuantile,
  mergeHistogram,
  histogramOf,
  readLatency,
  summarizeHistogram,
  type LatencyHistogram,
  type LatencyRecorder,
  type LatencyRecorderOptions,
  type LatencyRow,
  type LatencySummary,
  type ReadLatencyOptions,
} from "./latency.ts";
export { canonicalJson, fingerprintPayload } from "./canonical-json.ts";
export {
  createIdempotencyStore,
  parseIdempotencyKey,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  type IdempotencyStore,
  type IdempotencyStoreOptions,
  type IdempotentResult,
  type WithIdempotencyOptions,
} from "./idempotency.ts";
export {
  createLocks,
  type AcquireOptions,
  type Lock,
  type LockName,
  type Locks,
  type LocksOptions,
  type WithLockOptions,
} from "./locks.ts";
export type { Serializer } from "./serializer.ts";
export type { L1Options } from "./l1.ts";
export type { StandardSchema, Ttl } from "./options.ts";
export type { RedisClient } from "./wire.ts";
export { createSessionStore, type SessionStore, type SessionStoreOptions } from "./sessions.ts";
export {
  createLeaderboard,
  type BoardSelector,
  type Leaderboard,
  type LeaderboardOptions,
  type LeaderboardPeriod,
  type RankedMember,
} from "./leaderboard.ts";
export { createFeed, type Feed, type FeedOptions } from "./feed.ts";
export { createDomainCache, type DomainCache } from "./domain.ts";
