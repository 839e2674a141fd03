import type { LatencyRow } from "@hotpath/cache";
import type { RedisOperationGroup } from "@hotpath/config";
import type { Redis, Requester } from "@upstash/redis";
import type { PasswordHasher } from "../auth/password.ts";
import type { Database } from "../db/database.ts";
import type { JobsAdmin } from "../jobs/jobs-admin.ts";
import type { ReconcileReport } from "../jobs/projection-rebuild.ts";
import type { Logger } from "../logger.ts";
import type { AdminControls, IdentityDirectory } from "./admin-deps.ts";

/** The Redis client the API is given: an `@upstash/redis` client plus health (see @hotpath/redis). */
export type ApiRedis = Redis & {
  /** `rest` (Upstash HTTP) or `tcp`. */
  readonly transport: string;
  /** PING with latency; never throws. */
  health(): Promise<{ ok: boolean; latencyMs: number; error?: string }>;
  /** The transport's requester (raw commands and pipelines the SDK has no method for). */
  readonly requester: Requester;
};

/** Settings the router reads (from env, through the composition root). */
export interface ApiSettings {
  /** First segment of every Redis key. */
  app: string;
  /** Explicit development mode: stacks and internal messages in responses (never otherwise). */
  development: boolean;
  /** Bearer token of the admin-only metrics; undefined = admin endpoints are closed. */
  adminToken: string | undefined;
  /** Metrics (`/metrics`, `metrics.*` series) readable without the admin token. */
  metricsPublic: boolean;
  /** Proxies in front of the API that append to `x-forwarded-for` (0 = ignore the header). */
  trustedProxyCount: number;
  /** Session lifetime in seconds (sliding). */
  sessionTtlSeconds: number;
  /**
   * Test only (`TEST_PROCEDURE_DELAY`, refused in production): ms each call of a procedure path
   * waits before running, to make it slow on purpose.
   */
  procedureDelays?: ReadonlyMap<string, number> | undefined;
}

/** What a session stores (ids only, no PII beyond the username shown by `me`). */
export type SessionData = {
  userId: number;
  username: string;
  /** The user's plan at login (selects the per-plan rate-limit quota). */
  plan: "free" | "pro";
  /** Creation time, ms epoch. */
  createdAt: number;
};

/** Sessions in Redis (adapter over @hotpath/cache's session store). */
export interface SessionStore {
  /** Creates a session; returns its opaque id and expiry (ms epoch). */
  create(data: SessionData): Promise<{ id: string; expiresAt: number }>;
  /** Reads a session and slides its expiry; `null` when unknown or expired. */
  get(id: string): Promise<{ data: SessionData; expiresAt: number } | null>;
  /** Deletes a session (logout). */
  destroy(id: string): Promise<void>;
}

/** How one read-through call may be served. */
export interface CacheLoadOptions {
  /** Fresh lifetime in seconds. */
  ttlSeconds: number;
  /** Seconds after expiry during which the stale value is served while one caller refreshes. */
  staleWhileRevalidateSeconds?: number;
  /** Take the distributed lock so one caller loads and the others wait for it. */
  lock?: boolean;
  /** Lifetime of a cached "not found" (the loader returned null), seconds; 0 = not cached. */
  negativeTtlSeconds?: number;
  /** Tags to invalidate the entry by. */
  tags?: readonly string[];
}

/**
 * What a read-through call did (for the `X-Cache` header and tests); `coalesced`: it shared
 * another caller's load.
 */
export type CacheOutcome = "hit" | "miss" | "stale" | "negative" | "bypass" | "coalesced";

/** The read-through cache (adapter over @hotpath/cache's createCache). */
export interface ApiCache {
  /**
   * Returns the cached value of `namespace`/`key`, or loads, stores and returns it.
   * Fails open: Redis trouble means the loader runs and its value is served.
   */
  getOrSet<T>(
    namespace: string,
    key: string,
    load: () => Promise<T>,
    options: CacheLoadOptions,
  ): Promise<{ value: T; outcome: CacheOutcome }>;
  /** Deletes entries (after a write to the source of truth). */
  invalidate(namespace: string, keys: readonly string[]): Promise<void>;
  /** Deletes every entry of `namespace` carrying one of the tags. */
  invalidateTags(namespace: string, tags: readonly string[]): Promise<void>;
}

/** One policy's decision as sent in headers. */
export interface RateLimitDecision {
  success: boolean;
  limit: number;
  remaining: number;
  /** ms epoch. */
  reset: number;
  /** Seconds (>= 1 when blocked). */
  retryAfter: number;
  policy: string;
  /** `X-RateLimit-*`, `RateLimit`, `RateLimit-Policy` (and `Retry-After` when blocked). */
  headers: Readonly<Record<string, string>>;
  /** When blocked: the error to throw (RateLimitExceededError, carrying retryAfter/limit/remaining). */
  error?: Error;
}

/** Rate limiting (adapter over @hotpath/ratelimit). */
export interface ApiRateLimiter {
  /**
   * Counts one request of `identifier` against the policy of `bucket` (a route bucket such as
   * `tips:quick`, or a named limiter such as `AUTH`), and against the plan's quota (`plan:<plan>`)
   * when `plan` is given: all must allow. Throws RateLimitUnavailableError when a
   * fail-closed policy cannot reach Redis.
   */
  limit(
    bucket: string,
    identity: { identifier: string; ip?: string | undefined },
    waitUntil: (promise: Promise<unknown>) => void,
    plan?: string,
  ): Promise<RateLimitDecision>;
}

/** Idempotent execution (adapter over @hotpath/cache's idempotency store). */
export interface ApiIdempotency {
  /**
   * Runs `handler` once per (scope, key): a replay returns the stored result, a concurrent
   * duplicate throws IdempotencyInFlightError, a different payload IdempotencyMismatchError,
   * an unreachable Redis IdempotencyUnavailableError (the handler does not run).
   */
  run<T>(options: {
    key: string;
    scope: string;
    payload: unknown;
    /** The signal aborts when the idempotency lease is lost (stop before committing anything). */
    handler: (signal: AbortSignal) => Promise<T>;
  }): Promise<{ value: T; replayed: boolean }>;
}

/** Leaderboard windows. */
export type LeaderboardPeriod = "daily" | "weekly" | "alltime";
/** Leaderboards: creators by tips received, tippers by tips sent. */
export type LeaderboardBoard = "creators" | "tippers";

/** One activity-feed entry. */
export interface FeedEntry {
  type: "tip";
  tipId: number;
  streamId: number;
  creatorId: number;
  fromUserId: number;
  amount: string;
  at: string;
}

/** Derived tip data in Redis: leaderboards, 30-day counters, activity feeds. */
export interface TipProjections {
  /**
   * Applies one stored tip to every projection, at most once per tip id (one script per Redis
   * Cluster slot group, each with its own "applied" marker): true when this call applied at least
   * one group, false when every group had been applied before. Rejects when a group failed (the
   * groups that did land are not applied again by the retry).
   */
  apply(tip: {
    id: number;
    streamId: number;
    creatorId: number;
    fromUserId: number;
    amountCents: number;
    createdAt: string;
  }): Promise<boolean>;
  /** The top `n` members of a board in a period, highest score first (amounts in cents). */
  top(
    board: LeaderboardBoard,
    period: LeaderboardPeriod,
    n: number,
  ): Promise<{ member: string; score: number }[]>;
  /** A member's 1-based rank and score, or null when absent. */
  rank(
    board: LeaderboardBoard,
    period: LeaderboardPeriod,
    member: string,
  ): Promise<{ rank: number; score: number } | null>;
  /** The newest `n` entries of a user's activity feed (`userId` 0: the global feed). */
  recent(userId: number, n: number): Promise<FeedEntry[]>;
  /** Tips received by a creator over the last 30 days (count and cents). */
  tips30d(creatorId: number): Promise<{ count: number; cents: number }>;
}

/** The transactional outbox of tip projections (src/jobs/tip-outbox.ts). */
export interface TipOutbox {
  /**
   * After the tip's transaction committed: applies its projections inline once; when that fails,
   * hands the outbox row to the job queue (in the background). True when applied inline.
   */
  afterCommit(
    tip: Parameters<TipProjections["apply"]>[0],
    waitUntil: (promise: Promise<unknown>) => void,
  ): Promise<boolean>;
  /** Applies a tip from PostgreSQL (at most once in Redis) and marks its row done. */
  applyById(tipId: number): Promise<"applied" | "already-applied" | "missing">;
  /**
   * Re-publishes (or, without QStash, applies) rows pending longer than the relay delay, and
   * re-runs the fan-outs left pending as long (`fannedOut`); `failed` counts both kinds.
   */
  relay(): Promise<{ published: number; applied: number; failed: number; fannedOut: number }>;
  /** Rows still pending. */
  pending(): Promise<number>;
}

/** Notifications of a tip to the followers of its creator (src/jobs/tip-fanout.ts). */
export interface TipFanout {
  /**
   * After a tip committed: notifies the creator's followers in the background and marks the
   * tip's fan-out done; on failure it stays pending for {@link TipFanout.relay} (logged).
   */
  afterCommit(
    tip: { id: number; creatorId: number; fromUserId: number },
    waitUntil: (promise: Promise<unknown>) => void,
  ): void;
  /**
   * Publishes one `notify-follower` job per follower (but the tipper) in one batch call per page
   * of followers, or writes the notifications directly without QStash.
   */
  fanOut(tip: {
    id: number;
    creatorId: number;
    fromUserId: number;
  }): Promise<{ followers: number; batches: number }>;
  /** Writes a tip into a follower's notification feed; false when it was there already. */
  notify(tipId: number, followerId: number): Promise<boolean>;
  /** Re-runs the fan-outs pending longer than the relay delay (run by the outbox relay). */
  relay(): Promise<{ fannedOut: number; failed: number }>;
}

/**
 * Everything the router tree needs, built by the composition root (src/deps.ts) and injected:
 * the router never constructs clients and never touches `process` or `node:*`.
 */
export interface ApiDeps {
  settings: ApiSettings;
  db: Database;
  redis: ApiRedis;
  logger: Logger;
  passwords: PasswordHasher;
  sessions: SessionStore;
  cache: ApiCache;
  rateLimiter: ApiRateLimiter;
  idempotency: ApiIdempotency;
  projections: TipProjections;
  metrics: MetricsReader;
  outbox: TipOutbox;
  fanout: TipFanout;
  /**
   * Tip projections (leaderboards, 30-day counters, feeds) reconciled with and rebuilt from
   * PostgreSQL (src/jobs/projection-rebuild.ts).
   */
  reconciler: {
    /** Compares with PostgreSQL; `fix` rebuilds and swaps when drifted (`force`: always). */
    reconcile(options: { fix: boolean; force?: boolean }): Promise<ReconcileReport>;
    /** Enqueues a forced rebuild as a job; undefined without QStash (run `reconcile` inline). */
    enqueueRebuild?: (() => Promise<{ messageId: string }>) | undefined;
  };
  /** Admin powers of the packages (rate-limit controls, cache invalidation). */
  admin: AdminControls;
  /** Latency histograms; undefined when turned off (`LATENCY_HISTOGRAMS=false`). */
  latency?: ApiLatency | undefined;
  /** Hashed rate-limit identifiers back to known users (admin views only). */
  identities: IdentityDirectory;
  /** The QStash webhook (`POST /jobs/qstash`); undefined when QStash is not configured. */
  jobsWebhook?: ((request: Request) => Promise<Response>) | undefined;
  /** Schedules and DLQ of QStash (src/jobs/jobs-admin.ts); undefined without QStash. */
  jobsAdmin?: JobsAdmin | undefined;
}

/**
 * Latency histograms of the API (src/latency/api-latency.ts): recorded without I/O, written to
 * the shared per-minute metrics off the request path.
 */
export interface ApiLatency {
  /**
   * Runs one call of `procedure` and records its duration and how long it waited on Redis and on
   * the database (the round trips made under it, charged by the timed clients).
   */
  call<T>(procedure: string, run: () => Promise<T>): Promise<T>;
  /** Records one duration (ms) of a Redis operation group. */
  operation(group: RedisOperationGroup, durationMs: number): void;
}

/** A time series point: minute (ms epoch) and counters. */
export interface MetricsPoint {
  minute: number;
  counters: Record<string, number>;
}

/** Reads the metrics the packages aggregate in Redis (adapter over their readers). */
export interface MetricsReader {
  /** Cache hits/misses/stale… per namespace per minute over the last `minutes`. */
  cache(minutes: number): Promise<Record<string, MetricsPoint[]>>;
  /** Rate-limit allowed/blocked per policy per minute. */
  rateLimit(minutes: number): Promise<Record<string, MetricsPoint[]>>;
  /** Identifiers with the most blocked requests (admin only: identifiers are hashed but per client). */
  topIdentifiers(
    minutes: number,
    n: number,
  ): Promise<{ identifier: string; blocked: number; allowed: number }[]>;
  /** Idempotency first/replay/conflict/mismatch counts per store. */
  idempotency(minutes: number): Promise<Record<string, Record<string, number>>>;
  /** Jobs published/delivered/retried/failed per job name per minute. */
  jobs(minutes: number): Promise<Record<string, MetricsPoint[]>>;
  /** Latency histograms of every series per minute over the last `minutes`, and the range read. */
  latency(minutes: number): Promise<{ rows: LatencyRow[]; sinceMs: number; untilMs: number }>;
}
