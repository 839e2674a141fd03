// The API's front door: what a host (Node, an edge runtime, a test) needs to run it and extend it.
// Internals (the demo seed and its password, migrations, the error map, test loggers, the
// benchmark's bare procedure) stay behind it; the typed client and router types have their own
// entry points (`@hotpath/api/client`, `@hotpath/api/router`).
export { loadEnv, apiEnvSchema, type ApiEnv } from "./env.ts";
export { createRuntime, type ApiRuntime, type CreateRuntimeOptions } from "./deps.ts";
export { startApi, type RunningApi } from "./server.ts";
export {
  createFetchHandler,
  type FetchHandler,
  type FetchHandlerOptions,
  type RequestInfo,
} from "./http/handler.ts";
export { MAX_BATCH_SIZE } from "./batch-limit.ts";
export { serveNode, type NodeServer, type ServeNodeOptions } from "./http/node-server.ts";
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
export { ApiError, type ApiErrorCode, type RateLimitErrorData } from "./trpc/errors.ts";
export {
  publicProcedure,
  authedProcedure,
  adminProcedure,
  metricsProcedure,
  rateLimited,
  idempotent,
  cached,
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
export type {
  LatencyPoint,
  LatencyReport,
  LatencyShare,
  LatencyStats,
  OperationLatency,
  ProcedureLatency,
} from "./latency/report.ts";
export type { Database, DatabaseHealth, DatabaseKind, SqlExecutor } from "./db/database.ts";
export { openPgliteDatabase, type PgliteOptions } from "./db/pglite.ts";
export { openPostgresDatabase, type PostgresOptions } from "./db/postgres.ts";
export { migrate } from "./db/migrate.ts";
export { createJsonLogger, type Logger, type LogLevel } from "./logger.ts";
