export { loadEnv, apiEnvSchema, type ApiEnv } from "./env.ts";
export type { Database, DatabaseHealth, DatabaseKind, SqlExecutor } from "./db/database.ts";
export { openPgliteDatabase, type PgliteOptions } from "./db/pglite.ts";
export { openPostgresDatabase, type PostgresOptions } from "./db/postgres.ts";
export { migrate } from "./db/migrate.ts";
export { MIGRATIONS, type Migration } from "./db/migrations.ts";
export { seedDatabase, DEMO_PASSWORD, DEMO_USERS, type SeedResult } from "./db/seed.ts";
export { createPbkdf2Hasher, type PasswordHasher, type Pbkdf2Options } from "./auth/password.ts";
