/** Something that runs parameterised SQL (`$1`, `$2`…) and returns rows. */
export interface SqlExecutor {
  /** Runs one statement with positional parameters and returns its rows. */
  query<TRow extends object>(sql: string, params?: readonly unknown[]): Promise<TRow[]>;
}

/** Result of {@link Database.health}. */
export interface DatabaseHealth {
  ok: boolean;
  kind: DatabaseKind;
  latencyMs: number;
  error?: string;
}

/** Which engine backs a {@link Database}. */
export type DatabaseKind = "pglite" | "postgres";

/**
 * The API's source of truth: PostgreSQL, either a server (`pg` pool) or embedded PGlite.
 * Both speak the same SQL; the router tree only sees this interface.
 */
export interface Database extends SqlExecutor {
  /** The engine. */
  readonly kind: DatabaseKind;
  /** Runs `fn` in one transaction (BEGIN/COMMIT, ROLLBACK when it throws). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** `SELECT 1` with its latency; never throws. */
  health(): Promise<DatabaseHealth>;
  /** Closes connections; safe to call twice. */
  close(): Promise<void>;
}

/** Measures `SELECT 1` on a database; used by both adapters. */
export async function measureHealth(
  kind: DatabaseKind,
  run: () => Promise<unknown>,
): Promise<DatabaseHealth> {
  const started = performance.now();
  try {
    await run();
    return { ok: true, kind, latencyMs: performance.now() - started };
  } catch (error) {
    return {
      ok: false,
      kind,
      latencyMs: performance.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
