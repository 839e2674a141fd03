import type { Database } from "./database.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";

/** Advisory lock id shared by every process migrating the same database. */
const MIGRATION_LOCK_ID = 0x686f7470; // "hotp"

/**
 * Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction,
 * under an advisory lock so several API processes starting together migrate once.
 * Plain SQL with this tiny runner: no ORM or codegen between the hot path and the driver, and
 * the same statements run on PGlite and on a PostgreSQL server.
 * @returns the ids applied by this call.
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<string[]> {
  await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_ID]);
    await tx.query(`create table if not exists schema_migrations (
      id text primary key,
      applied_at timestamptz not null default now()
    )`);
  });
  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_ID]);
      const done = await tx.query<{ id: string }>(
        "select id from schema_migrations where id = $1",
        [migration.id],
      );
      if (done.length > 0) return false;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("insert into schema_migrations (id) values ($1)", [migration.id]);
      return true;
    });
    if (ran) applied.push(migration.id);
  }
  return applied;
}

/** Splits a migration script on `;` at line ends (our migrations hold no procedural bodies). */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((statement) =>
      statement
        .split("\n")
        .filter((line) => !line.trim().startsWith("--"))
        .join("\n")
        .trim(),
    )
    .filter((statement) => statement.length > 0);
}
