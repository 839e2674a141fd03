import { withRequester, type HotpathRedis } from "@hotpath/redis";
import type { UpstashRequest } from "@upstash/redis";
import type { Database, SqlExecutor } from "../db/database.ts";
import type { CallScope } from "./call-timing.ts";

/**
 * The same Redis client with every round trip charged to the current call's Redis time
 * ({@link CallScope}). Same connection, breaker, tracing and commands: nothing is added to the wire.
 */
export function timedRedis(redis: HotpathRedis, scope: CallScope): HotpathRedis {
  return withRequester(redis, (inner) => ({
    request: <TResult>(req: UpstashRequest) =>
      scope.track("redis", () => inner.request<TResult>(req)),
  }));
}

/** The same database with every statement and transaction charged to the current call's database time. */
export function timedDatabase(db: Database, scope: CallScope): Database {
  return {
    kind: db.kind,
    query: <TRow extends object>(sql: string, params?: readonly unknown[]) =>
      scope.track("db", () => db.query<TRow>(sql, params)),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
      scope.track("db", () => db.transaction(fn)),
    exec: (sql) => scope.track("db", () => db.exec(sql)),
    health: () => db.health(),
    close: () => db.close(),
  };
}
