import { createIdempotencyStore, createSessionStore, type CacheStats } from "@hotpath/cache";
import { ConfigError } from "@hotpath/config";
import { createRateLimiter, type PolicyInput } from "@hotpath/ratelimit";
import { redisFromEnv, type HotpathRedis } from "@hotpath/redis";
import { Client, Receiver } from "@upstash/qstash";
import { createAdminControls } from "./adapters/admin-controls.ts";
import { createApiCache } from "./adapters/cache.ts";
import { createApiIdempotency } from "./adapters/idempotency.ts";
import { createIdentityDirectory } from "./adapters/identity-directory.ts";
import { createMetricsReader } from "./adapters/metrics.ts";
import { createTipProjections } from "./adapters/projections.ts";
import { createApiRateLimiter } from "./adapters/rate-limit.ts";
import { createApiSessions, sessionDataSchema } from "./adapters/sessions.ts";
import { createPbkdf2Hasher } from "./auth/password.ts";
import type { Database } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { openPgliteDatabase } from "./db/pglite.ts";
import { openPostgresDatabase } from "./db/postgres.ts";
import { seedDatabase, type SeedResult } from "./db/seed.ts";
import { listTips } from "./db/tips.ts";
import type { ApiEnv } from "./env.ts";
import type { MetricFamily } from "./http/prometheus.ts";
import { JOBS_WEBHOOK_PATH, createApiJobs, type ApiJobs, type ApiQStash } from "./jobs/api-jobs.ts";
import { createCacheWarmup } from "./jobs/cache-warmup.ts";
import { createDailyReportJob } from "./jobs/daily-report.ts";
import { createJobsAdmin } from "./jobs/jobs-admin.ts";
import { createProjectionRebuild } from "./jobs/projection-rebuild.ts";
import { createTipFanout } from "./jobs/tip-fanout.ts";
import { createTipOutbox } from "./jobs/tip-outbox.ts";
import { createApiLatency } from "./latency/api-latency.ts";
import { latencyFamilies } from "./latency/prometheus-latency.ts";
import { timedDatabase, timedRedis } from "./latency/timed-clients.ts";
import { createJsonLogger, type Logger } from "./logger.ts";
import type { ApiDeps, TipOutbox } from "./trpc/deps.ts";

/** Options of {@link createRuntime}: the env, plus clients a test or host may hand in. */
export interface CreateRuntimeOptions {
  env: ApiEnv;
  /** A Redis client to use instead of one from the env (not closed by the runtime). */
  redis?: HotpathRedis;
  /** A database to use instead of one from the env (migrated, not closed by the runtime). */
  db?: Database;
  logger?: Logger;
  /** Extra or replaced rate-limit policies (over `RATE_LIMIT_POLICIES`). */
  rateLimitPolicies?: Record<string, PolicyInput>;
  /** Seed the database with the demo users when it is empty. @default env SEED (`false`) */
  seed?: boolean;
  /** Metrics flush interval of the packages (ms). @default 1000 */
  metricsFlushMs?: number;
  /** QStash wiring to use instead of the one from the env (tests). */
  qstash?: ApiQStash;
  /** Runs right after a tip's transaction commits, before its projections (fault tests). */
  onTipCommitted?: (tipId: number) => void | Promise<void>;
}

/** A running API's dependencies plus lifecycle. */
export interface ApiRuntime {
  deps: ApiDeps;
  /** What the seed did (undefined when not asked to seed). */
  seed: SeedResult | undefined;
  /** The packages' in-process counters as Prometheus families (for `/metrics`). */
  collectors: () => MetricFamily[];
  /** Hands background work to the runtime (Node: tracked until close). */
  waitUntil: (promise: Promise<unknown>) => void;
  /** The QStash jobs (undefined without QStash). */
  jobs: ApiJobs | undefined;
  /** Waits for background work, flushes metrics, closes what the runtime opened (Redis, DB). */
  close(): Promise<void>;
}

/** Route buckets of the read-only procedures, on the generous tier (others: @hotpath/config BUCKET_MAP). */
export const READ_BUCKETS: Readonly<Record<string, string>> = {
  "users:read": "generous",
  "leaderboard:read": "generous",
  "feed:read": "generous",
  "metrics:read": "generous",
  "tips:read": "generous",
};

/**
 * QStash from the env: all of `QSTASH_URL`, `QSTASH_TOKEN`, both signing keys and
 * `PUBLIC_BASE_URL`, or none of them.
 * @throws ConfigError CONFIG_INVALID_ENV naming the missing variables.
 */
export function qstashFromEnv(env: ApiEnv): ApiQStash | undefined {
  if (!env.QSTASH_URL) return undefined;
  const required = {
    QSTASH_TOKEN: env.QSTASH_TOKEN,
    QSTASH_CURRENT_SIGNING_KEY: env.QSTASH_CURRENT_SIGNING_KEY,
    QSTASH_NEXT_SIGNING_KEY: env.QSTASH_NEXT_SIGNING_KEY,
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL,
  };
  const missing = Object.entries(required)
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (missing.length > 0) {
    throw new ConfigError(
      "CONFIG_INVALID_ENV",
      `QSTASH_URL is set, so ${missing.join(", ")} must be set too.`,
      { issues: missing.map((field) => ({ field, message: "required with QSTASH_URL" })) },
    );
  }
  return {
    client: new Client({ baseUrl: env.QSTASH_URL, token: env.QSTASH_TOKEN ?? "" }),
    receiver: new Receiver({
      currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY ?? "",
      nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY ?? "",
    }),
    webhookUrl: `${(env.PUBLIC_BASE_URL ?? "").replace(/\/+$/, "")}${JOBS_WEBHOOK_PATH}`,
  };
}

async function openDatabase(env: ApiEnv): Promise<Database> {
  if (env.DATABASE_URL)
    return openPostgresDatabase({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA });
  if (env.NODE_ENV === "test" && !env.DATA_DIR) return openPgliteDatabase();
  return openPgliteDatabase({ dataDir: `${env.DATA_DIR ?? ".data"}/pglite` });
}

/**
 * The composition root: builds every client and adapter from the environment (Redis from
 * `UPSTASH_REDIS_REST_URL`/`TOKEN`, `REDIS_URL` (a `redis+cluster://` one too) or
 * `REDIS_CLUSTER_NODES`; PostgreSQL from `DATABASE_URL`, else embedded
 * PGlite under `DATA_DIR`), migrates and optionally seeds. The only place clients are constructed.
 */
export async function createRuntime(options: CreateRuntimeOptions): Promise<ApiRuntime> {
  const { env } = options;
  const logger =
    options.logger ?? createJsonLogger({ level: env.LOG_LEVEL, base: { service: "api" } });
  const background = new Set<Promise<unknown>>();
  const waitUntil = (promise: Promise<unknown>) => {
    const tracked = promise.catch((error: unknown) =>
      logger.warn("background task failed", { error: String(error) }),
    );
    background.add(tracked);
    void tracked.finally(() => background.delete(tracked));
  };
  const sharedRedis =
    options.redis ??
    redisFromEnv(env, { timeoutMs: env.REDIS_TIMEOUT_MS, connectionName: "hotpath-api" });
  const sharedDb = options.db ?? (await openDatabase(env));
  await migrate(sharedDb);
  const passwords = createPbkdf2Hasher({ iterations: env.PASSWORD_ITERATIONS });
  const shouldSeed = options.seed ?? env.SEED === "true";
  const seed = shouldSeed ? await seedDatabase(sharedDb, passwords) : undefined;
  const app = env.HOTPATH_APP;
  const flushIntervalMs = options.metricsFlushMs ?? 1000;
  const latency =
    env.LATENCY_HISTOGRAMS === "true"
      ? createApiLatency({
          redis: sharedRedis,
          app,
          flushIntervalMs,
          onFlushError: (error) =>
            logger.warn("latency metrics flush failed", { error: String(error) }),
        })
      : undefined;
  // Everything below uses the clients that charge each round trip to the running call.
  const redis = latency ? timedRedis(sharedRedis, latency.scope) : sharedRedis;
  const db = latency ? timedDatabase(sharedDb, latency.scope) : sharedDb;

  const limiter = createRateLimiter({
    redis,
    prefix: app,
    timeoutMs: env.REDIS_TIMEOUT_MS,
    analytics: { flushIntervalMs },
    policies: {
      ...(env.RATE_LIMIT_POLICIES as Record<string, PolicyInput> | undefined),
      ...options.rateLimitPolicies,
    },
    // Read-only buckets a polling dashboard hits several times per refresh.
    buckets: READ_BUCKETS,
    logger,
  });
  const cache = createApiCache({
    redis,
    app,
    logger,
    timeoutMs: env.REDIS_TIMEOUT_MS,
    metricsFlushMs: flushIntervalMs,
    latency,
  });
  const idempotencyStore = createIdempotencyStore({
    redis,
    app,
    name: "api",
    timeoutMs: env.REDIS_TIMEOUT_MS,
    metrics: { flushIntervalMs },
    onError: (error) => logger.error("idempotency store error", { error: String(error) }),
  });

  const projections = createTipProjections({ redis, app });
  const qstash = options.qstash ?? qstashFromEnv(env);
  const jobsIdempotency = qstash
    ? createIdempotencyStore({
        redis,
        app,
        name: "jobs",
        // Short lease: a delivery cut off mid-run blocks its message id only briefly.
        leaseTtl: 10,
        timeoutMs: env.REDIS_TIMEOUT_MS,
        metrics: { flushIntervalMs },
      })
    : undefined;
  const jobs =
    qstash && jobsIdempotency
      ? createApiJobs({
          qstash,
          // Called only when a job runs, after the outbox and the deps below exist.
          targets: () => ({
            outbox,
            fanout,
            reconciler: deps.reconciler,
            dailyReport,
            warmup,
            logger,
          }),
          redis,
          app,
          idempotency: jobsIdempotency,
          logger,
          metricsFlushMs: flushIntervalMs,
          latency,
        })
      : undefined;
  const fanout = createTipFanout({
    db,
    logger,
    publish: jobs
      ? (tipId, followerIds) => jobs.enqueueFollowerNotifications(tipId, followerIds)
      : undefined,
    relayAfterSeconds: env.OUTBOX_RELAY_AFTER_SECONDS,
  });

  const outbox: TipOutbox = createTipOutbox({
    db,
    projections,
    logger,
    enqueue: jobs ? (tipId, attempt) => jobs.enqueueTip(tipId, attempt) : undefined,
    relayAfterSeconds: env.OUTBOX_RELAY_AFTER_SECONDS,
    fanout,
    ...(options.onTipCommitted ? { onCommitted: options.onTipCommitted } : {}),
  });

  const dailyReport = createDailyReportJob({ db, logger });
  const warmup = createCacheWarmup({ db, cache, projections });

  const projectionRebuild = createProjectionRebuild({ db, redis, app });

  const deps: ApiDeps = {
    settings: {
      app,
      development: env.NODE_ENV === "development",
      adminToken: env.ADMIN_TOKEN,
      metricsPublic: env.METRICS_PUBLIC === "true",
      trustedProxyCount: env.TRUSTED_PROXY_COUNT,
      sessionTtlSeconds: env.SESSION_TTL_SECONDS,
      procedureDelays: env.TEST_PROCEDURE_DELAY,
    },
    db,
    redis,
    logger,
    passwords,
    sessions: createApiSessions({
      store: createSessionStore({
        redis,
        app,
        ttl: env.SESSION_TTL_SECONDS,
        schema: sessionDataSchema,
        timeoutMs: env.REDIS_TIMEOUT_MS,
      }),
      ttlSeconds: env.SESSION_TTL_SECONDS,
    }),
    cache,
    rateLimiter: createApiRateLimiter(limiter, latency),
    idempotency: createApiIdempotency(idempotencyStore, latency),
    projections,
    metrics: createMetricsReader({ redis, app, limiter }),
    outbox,
    fanout,
    reconciler: {
      reconcile: (o) => projectionRebuild.reconcile(o),
      enqueueRebuild: jobs ? () => jobs.enqueueRebuild() : undefined,
    },
    admin: createAdminControls({ limiter, cache }),
    latency,
    identities: createIdentityDirectory({ db }),
    jobsWebhook: jobs?.webhook,
    jobsAdmin: qstash ? createJobsAdmin(qstash.client) : undefined,
  };
  if (jobs) await jobs.ensureSchedules();
  // Without QStash the relay runs here: pending rows are applied inline every relay period.
  const relayTimer = jobs
    ? undefined
    : setInterval(() => {
        waitUntil(outbox.relay());
      }, env.OUTBOX_RELAY_AFTER_SECONDS * 1000);
  relayTimer?.unref();

  if (seed?.seeded) {
    // Derived data of the seeded tips, so leaderboards and feeds are not empty on a fresh start.
    for (const tip of await listTips(db)) {
      await deps.projections
        .apply(tip)
        .catch((error: unknown) => logger.warn("seed projection failed", { error: String(error) }));
    }
  }

  let closing: Promise<void> | undefined;
  const collectors = (): MetricFamily[] => {
    const cacheStats = Object.entries(cache.stats());
    const limiterStats = limiter.stats();
    const cacheCounter = (
      name: string,
      help: string,
      pick: (stats: CacheStats) => number,
    ): MetricFamily => ({
      name,
      help,
      type: "counter",
      samples: cacheStats.map(([namespace, stats]) => ({
        labels: { namespace },
        value: pick(stats),
      })),
    });
    return [
      cacheCounter(
        "hotpath_cache_hits_total",
        "Cache hits (fresh, stale, negative) in this process.",
        (s) => s.hits + s.staleHits + s.negativeHits,
      ),
      cacheCounter("hotpath_cache_misses_total", "Cache misses in this process.", (s) => s.misses),
      cacheCounter("hotpath_cache_loads_total", "Loader runs in this process.", (s) => s.loads),
      cacheCounter(
        "hotpath_cache_redis_errors_total",
        "Redis errors seen by the cache in this process.",
        (s) => s.redisErrors,
      ),
      {
        name: "hotpath_ratelimit_events_total",
        help: "Rate-limiter events in this process (Redis checks, cache blocks, fallbacks, fail-closed, Redis errors).",
        type: "counter",
        samples: (Object.entries(limiterStats) as [string, number][]).map(([event, value]) => ({
          labels: { event },
          value,
        })),
      },
      {
        name: "hotpath_jobs_events_total",
        help: "Job messages in this process by job and event (published, delivered, retried, failed…).",
        type: "counter",
        samples: Object.entries(jobs?.metrics.totals() ?? {}).flatMap(([job, counters]) =>
          Object.entries(counters)
            .filter(([counter]) => counter !== "jobs_duration_ms_total")
            .map(([counter, value]) => ({
              labels: { job, event: counter.replace(/^jobs_/, "").replace(/_total$/, "") },
              value,
            })),
        ),
      },
      ...(latency ? latencyFamilies(latency.snapshot()) : []),
    ];
  };

  return {
    deps,
    seed,
    collectors,
    waitUntil,
    jobs,
    close() {
      closing ??= (async () => {
        if (relayTimer) clearInterval(relayTimer);
        await Promise.allSettled([...background]);
        await Promise.allSettled([
          cache.close(),
          idempotencyStore.close(),
          limiter.metrics.flush(),
          jobs?.metrics.close(),
          jobsIdempotency?.close(),
          latency?.close(),
        ]);
        if (!options.redis) await redis.close();
        if (!options.db) await db.close();
      })();
      return closing;
    },
  };
}
