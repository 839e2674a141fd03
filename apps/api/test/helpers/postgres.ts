import { randomBytes } from "node:crypto";
import { Socket } from "node:net";
import pg from "pg";

/** The real PostgreSQL the tests use (trust auth, database `test`); `pnpm test` makes sure one runs. */
export const TEST_POSTGRES_URL =
  process.env.HOTPATH_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * True when `pnpm test` (scripts/test.ts) provided the PostgreSQL: then a suite that needs it must
 * fail, not skip, when it does not answer.
 */
export const POSTGRES_REQUIRED = process.env.HOTPATH_TEST_DATABASE_URL !== undefined;

/** True when something accepts TCP connections at the PostgreSQL test target. */
export async function postgresAnswers(timeoutMs = 500): Promise<boolean> {
  const url = new URL(TEST_POSTGRES_URL);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(Number(url.port || 5432), url.hostname, () => done(true));
  });
}

/** A database of its own on the test server (for processes that use the default schema). */
export interface ScratchDatabase {
  /** `postgres://…/<name>`. */
  url: string;
  /** Drops the database (ending its connections). */
  drop(): Promise<void>;
}

/** Creates an empty database `hotpath_<label>_<random>` on the PostgreSQL test server. */
export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const name = `hotpath_${label}_${randomBytes(4).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}
