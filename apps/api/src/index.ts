export { loadEnv, apiEnvSchema, type ApiEnv } from "./env.ts";
export { createRuntime, type ApiRuntime, type CreateRuntimeOptions } from "./deps.ts";
export { startApi, type RunningApi } from "./server.ts";
export {
  createFetchHandler,
  type FetchHandler,
  type FetchHandlerOptions,
  type RequestInfo,
} from "./http/handler.ts";
export { serveNode, type NodeServer, type ServeNodeOptions } from "./http/node-server.ts";
export {
  createHttpMetrics,
  type HttpMetrics,
  type MetricFamily,
  type MetricSample,
} from "./http/prometheus.ts";
export {
  appRouter,
  createCaller,
  type AppRouter,
  type RouterInputs,
  type RouterOutputs,
} from "./trpc/router.ts";
export {
  createContextInner,
  SESSION_COOKIE,
  REQUEST_ID_HEADER,
  type Context,
  type CreateContextOptions,
  type Principal,
} from "./trpc/context.ts";
export type * from "./trpc/deps.ts";
export {
  ApiError,
  toTRPCError,
  mapErrorCode,
  type ApiErrorCode,
  type RateLimitErrorData,
} from "./trpc/errors.ts";
export {
  publicProcedure,
  authedProcedure,
  adminProcedure,
  bareProcedure,
  rateLimited,
  idempotent,
  cached,
  canonicalJson,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  type CachedOptions,
} from "./trpc/procedures.ts";
export {
  createHotpathClient,
  isHotpathClientError,
  type HotpathClient,
  type HotpathClientError,
  type HotpathClientOptions,
  type HotpathCallContext,
} from "./client.ts";
export type { Database, DatabaseHealth, DatabaseKind, SqlExecutor } from "./db/database.ts";
export { openPgliteDatabase, type PgliteOptions } from "./db/pglite.ts";
export { openPostgresDatabase, type PostgresOptions } from "./db/postgres.ts";
export { migrate } from "./db/migrate.ts";
export { MIGRATIONS, type Migration } from "./db/migrations.ts";
export { seedDatabase, DEMO_PASSWORD, DEMO_USERS, type SeedResult } from "./db/seed.ts";
export { createPbkdf2Hasher, type PasswordHasher, type Pbkdf2Options } from "./auth/password.ts";
export {
  createJsonLogger,
  createMemoryLogger,
  silentLogger,
  type Logger,
  type LogLevel,
} from "./logger.ts";
