import pg from "pg";
import { measureHealth, type Database, type SqlExecutor } from "./database.ts";

/** Options of {@link openPostgresDatabase}. */
export interface PostgresOptions {
  /** `postgres://user:pass@host:port/db`. */
  url: string;
  /** Schema used as `search_path` (created when missing). @default "public" */
  schema?: string;
  /** Pool size. @default 10 */
  max?: number;
  /** Statement timeout in ms: nothing hangs. @default 5000 */
  statementTimeoutMs?: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens a connection pool to a PostgreSQL server (node-postgres). Every connection uses the
 * given schema as its `search_path`, so tests can each use their own schema.
 */
export async function openPostgresDatabase(options: PostgresOptions): Promise<Database> {
  const schema = options.schema ?? "public";
  if (!IDENTIFIER.test(schema)) throw new Error(`Invalid schema name "${schema}"`);
  const statementTimeout = options.statementTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    statement_timeout: statementTimeout,
    options: `-c search_path=${schema}`,
  });
  // An idle client that errors (server restart) must not crash the process.
  pool.on("error", () => undefined);
  try {
    await pool.query(`create schema if not exists ${schema}`);
  } catch (error) {
    // Processes starting together race on "if not exists": the schema being there is what counts.
    const found = await pool
      .query("select 1 from pg_namespace where nspname = $1", [schema])
      .catch(() => ({ rowCount: 0 }));
    if (!found.rowCount) {
      await pool.end();
      throw error;
    }
  }
  let closed: Promise<void> | undefined;

  const executor = (target: Pick<pg.Pool | pg.PoolClient, "query">): SqlExecutor => ({
    async query<TRow extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await target.query<TRow & pg.QueryResultRow>(sql, [...params]);
      return result.rows;
    },
  });

  return {
    kind: "postgres",
    ...executor(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const result = await fn(executor(client));
        await client.query("commit");
        return result;
      } catch (error) {
        await client.query("rollback").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    health: () => measureHealth("postgres", () => pool.query("select 1")),
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
