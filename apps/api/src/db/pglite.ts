import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { measureHealth, type Database, type SqlExecutor } from "./database.ts";

/** Options of {@link openPgliteDatabase}. */
export interface PgliteOptions {
  /** Folder holding the data, created with its parents when missing; omitted = in memory (tests). */
  dataDir?: string;
}

/**
 * Opens embedded PGlite (real Postgres compiled to WASM, in-process): in memory, or kept in a folder.
 * PGlite has one connection; it serialises queries and holds them while a transaction runs.
 */
export async function openPgliteDatabase(options: PgliteOptions = {}): Promise<Database> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const pg = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
  await pg.waitReady;
  let closed: Promise<void> | undefined;
  const executor = (target: Pick<PGlite, "query">): SqlExecutor => ({
    async query<TRow extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await target.query<TRow>(sql, [...params]);
      return result.rows;
    },
  });
  return {
    kind: "pglite",
    ...executor(pg),
    transaction: (fn) => pg.transaction((tx) => fn(executor(tx))),
    async exec(sql) {
      await pg.exec(sql);
    },
    health: () => measureHealth("pglite", () => pg.query("select 1")),
    close() {
      closed ??= pg.closed ? Promise.resolve() : pg.close();
      return closed;
    },
  };
}
