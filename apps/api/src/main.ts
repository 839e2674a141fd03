import { loadEnv } from "./env.ts";
import { createJsonLogger } from "./logger.ts";
import { startApi } from "./server.ts";

/**
 * Development defaults of `--dev` (the `dev` script): stacks in responses and the demo seed.
 * Variables set in the environment still win; without the flag the defaults are production's.
 */
const DEV_DEFAULTS = { NODE_ENV: "development", SEED: "true" } as const;

/** Node entry: env -> runtime -> server; SIGTERM/SIGINT drain in-flight requests, then close Redis and DB. */
async function main(): Promise<void> {
  const development = process.argv.includes("--dev");
  const env = loadEnv(development ? { ...DEV_DEFAULTS, ...process.env } : process.env);
  const logger = createJsonLogger({
    level: env.LOG_LEVEL,
    base: { service: "api", pid: process.pid },
  });
  const api = await startApi({ env, logger });
  const redisTarget = env.UPSTASH_REDIS_REST_URL ? "upstash-rest" : "tcp";
  const database = env.DATABASE_URL
    ? "postgres"
    : `pglite (${env.NODE_ENV === "test" && !env.DATA_DIR ? "memory" : `${env.DATA_DIR ?? ".data"}/pglite`})`;
  logger.info("api listening", {
    mode: env.NODE_ENV,
    url: api.server.url,
    trpc: `${api.server.url}/trpc`,
    redis: redisTarget,
    database,
  });
  if (api.runtime.seed?.seeded) {
    logger.info("seeded demo data", {
      credentials: api.runtime.seed.credentials.map((c) => `${c.username} / ${c.password}`),
    });
  } else if (api.runtime.seed) {
    logger.info("demo users", {
      credentials: api.runtime.seed.credentials.map((c) => `${c.username} / ${c.password}`),
    });
  }
  // Machine-readable line for process supervisors and tests.
  process.stdout.write(`HOTPATH_API_READY ${api.server.url}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal, inFlight: api.server.inFlight() });
    api
      .stop()
      .then(() => {
        logger.info("stopped", { signal });
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error("shutdown failed", { error: String(error) });
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("unhandledRejection", (reason) =>
    logger.error("unhandled rejection", { error: String(reason) }),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
