import { createPbkdf2Hasher } from "./auth/password.ts";
import { createRuntime } from "./deps.ts";
import { migrate } from "./db/migrate.ts";
import { openPgliteDatabase } from "./db/pglite.ts";
import { openPostgresDatabase } from "./db/postgres.ts";
import { seedDatabase, type SeedResult } from "./db/seed.ts";
import { loadEnv } from "./env.ts";
import { silentLogger } from "./logger.ts";

const USAGE = `Usage: pnpm --filter @hotpath/api seed

Migrates the database (DATABASE_URL, else PGlite under DATA_DIR/pglite) and seeds it when empty:
demo users, streams and tips. With REDIS_URL, REDIS_CLUSTER_NODES or UPSTASH_REDIS_REST_URL/TOKEN
set, the seeded tips are also projected into the Redis leaderboards and feeds.`;

/** `seed`: migrate + seed (+ Redis projections when Redis is configured), print the credentials. */
async function seed(): Promise<void> {
  const env = loadEnv();
  let result: SeedResult | undefined;
  if (env.REDIS_URL || env.REDIS_CLUSTER_NODES || env.UPSTASH_REDIS_REST_URL) {
    const runtime = await createRuntime({ env, logger: silentLogger, seed: true });
    result = runtime.seed;
    await runtime.close();
  } else {
    const db = env.DATABASE_URL
      ? await openPostgresDatabase({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA })
      : await openPgliteDatabase({ dataDir: `${env.DATA_DIR ?? ".data"}/pglite` });
    try {
      await migrate(db);
      result = await seedDatabase(db, createPbkdf2Hasher({ iterations: env.PASSWORD_ITERATIONS }));
    } finally {
      await db.close();
    }
  }
  if (!result) return;
  console.log(
    result.seeded ? "Seeded demo data." : "The database already has users: nothing seeded.",
  );
  for (const credential of result.credentials)
    console.log(`  ${credential.username} / ${credential.password}`);
}

const command = process.argv[2] ?? "seed";
if (command === "seed") {
  seed().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
} else {
  console.error(USAGE);
  process.exit(command === "--help" || command === "-h" ? 0 : 2);
}
