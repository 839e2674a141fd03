import type { FailureMode } from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import type { DenyListEntry, RateLimitOverride } from "./controls.ts";
import type {
  MetricsOptions,
  PolicyUsage,
  UsageQuery,
  getUsageOverTime,
  topIdentifiers,
} from "./metrics.ts";
import type { PolicyRegistry, PolicyRegistryOptions, PolicySelector } from "./policies.ts";
import type { RateLimitEvent, RateLimitLogger, RateLimitResult, WaitUntil } from "./types.ts";

/** What to do when Redis fails or is slower than `timeoutMs`. */
export interface FailureOptions {
  /** Forces one mode on every policy (else each policy's own `failure`, AUTH = closed). */
  mode?: FailureMode;
  /** Per-policy modes, over the policies' own. */
  policies?: Readonly<Record<string, FailureMode>>;
  /** After a failure, Redis is skipped (fallback at once) for this long, then tried again. @default 1000 */
  breakerMs?: number;
  /** `Retry-After` (seconds) of the fail-closed error. @default 1 */
  retryAfterSeconds?: number;
  /** Identifiers the insurance limiter tracks per process. @default 10000 */
  maxFallbackEntries?: number;
}

/** Options of {@link createRateLimiter}. */
export interface CreateRateLimiterOptions extends PolicyRegistryOptions {
  /** An `@upstash/redis` client (e.g. `createRedis()` of `@hotpath/redis`: TCP or REST). */
  redis: Redis;
  /** App prefix of every key (`<prefix>:rl:…`, `<prefix>:metrics:ratelimit:…`). @default "hotpath" */
  prefix?: string;
  /** Failure policy. */
  failure?: FailureOptions;
  /** Per-minute counters and hourly top identifiers in Redis; `false` turns them off. @default true */
  analytics?: boolean | MetricsOptions;
  /** In-memory block cache: a blocked identifier costs no Redis call until its reset. @default true */
  ephemeralCache?: boolean | { maxEntries?: number };
  /** Deadline of a Redis call before the failure policy applies. @default 1000 */
  timeoutMs?: number;
  /** Deny list and overrides: how long the in-memory copy lives; `false` turns them off. @default { refreshMs: 5000 } */
  controls?: false | { refreshMs?: number };
  /** Runtime hook for background work (`ctx.waitUntil`); without it, `pending` is awaited before `limit()` returns. */
  waitUntil?: WaitUntil;
  /** Receives every fallback, fail-closed, Redis error and deny decision. */
  onEvent?: (event: RateLimitEvent) => void;
  /** Logs the same events (warn). */
  logger?: RateLimitLogger;
  /**
   * The clock of every decision (ms epoch): the multi-policy and sliding-window-log scripts, the
   * insurance limiter, the block cache and the metrics buckets. Tests inject one; upstream's
   * single-policy scripts read `Date.now()` themselves. Timeouts and the breaker use real time.
   * @default () => Date.now()
   */
  now?: () => number;
}

/** Options of one {@link RateLimiter.limit} call. */
export interface LimitOptions extends PolicySelector {
  /** Units this request consumes. @default 1 */
  cost?: number;
  /** Client IP (group) for the IP deny list, e.g. `identity.ip` from `getRateLimitIdentifier`. */
  ip?: string;
  /** Overrides the limiter's `waitUntil` for this call (e.g. the request context's). */
  waitUntil?: WaitUntil;
}

/** Remaining quota of one policy (admin view). */
export interface RemainingQuota {
  policy: string;
  limit: number;
  remaining: number;
  reset: number;
}

/** In-process counters of the limiter (since it was created). */
export interface RateLimiterStats {
  redisChecks: number;
  cacheBlocks: number;
  denied: number;
  fallbacks: number;
  failClosed: number;
  redisErrors: number;
}

/** A rate limiter over named policies. Create it with {@link createRateLimiter}. */
export interface RateLimiter {
  /** The policies, bucket map and plans it knows. */
  readonly registry: PolicyRegistry;
  /**
   * Decides one request: one Redis round trip for one policy (the upstream EVALSHA; this
   * package's script for a sliding window log) and one for
   * several (one EVALSHA of the multi-policy script); none when blocked in the ephemeral cache.
   * @throws RateLimitUnavailableError when Redis failed and a policy fails closed.
   * @throws RateLimitError RATELIMIT_INVALID_INPUT / RATELIMIT_UNKNOWN_POLICY for bad arguments.
   */
  limit(identifier: string, options?: LimitOptions): Promise<RateLimitResult>;
  /** Remaining quota per policy without consuming any. */
  getRemaining(identifier: string, selector?: PolicySelector): Promise<RemainingQuota[]>;
  /** Clears an identifier's counters (all policies, or the selected ones), its cache entries and fallback state. */
  reset(identifier: string, selector?: PolicySelector): Promise<void>;
  /** Deny list stored in Redis (read by every instance within `refreshMs`). */
  readonly denyList: {
    add(entry: DenyListEntry): Promise<void>;
    remove(entry: DenyListEntry): Promise<void>;
    list(): Promise<string[]>;
  };
  /** Per-identifier overrides stored in Redis (e.g. a partner gets 10x). */
  readonly overrides: {
    set(identifier: string, override: RateLimitOverride): Promise<void>;
    remove(identifier: string): Promise<void>;
    list(): Promise<Record<string, RateLimitOverride>>;
  };
  /** Metric readers over this limiter's prefix. */
  readonly metrics: {
    getUsage(query?: Omit<UsageQuery, "app">): Promise<Record<string, PolicyUsage>>;
    getUsageOverTime(query?: Omit<UsageQuery, "app">): ReturnType<typeof getUsageOverTime>;
    topIdentifiers(query?: {
      kind?: "allowed" | "blocked";
      hours?: number;
      limit?: number;
    }): ReturnType<typeof topIdentifiers>;
    /** Writes batched metrics now. */
    flush(): Promise<void>;
  };
  /** In-process counters. */
  stats(): RateLimiterStats;
}
