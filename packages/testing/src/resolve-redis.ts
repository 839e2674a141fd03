import { redisAnswers, startRedisServer, type RedisServerHandle } from "./redis-server.ts";

/** Where the test Redis came from. */
export type TestRedisSource = "REDIS_URL" | "127.0.0.1:6379" | "started redis-server";

/**
 * Finds the Redis the tests use: `REDIS_URL` if set, else 127.0.0.1:6379 if it answers, else a
 * `redis-server` started on a free port (returned so the caller stops it). Says which on stderr.
 */
export async function resolveTestRedis(): Promise<{
  url: string;
  source: TestRedisSource;
  server?: RedisServerHandle;
}> {
  const fromEnv = process.env.REDIS_URL;
  let resolved: { url: string; source: TestRedisSource; server?: RedisServerHandle };
  if (fromEnv) resolved = { url: fromEnv, source: "REDIS_URL" };
  else if (await redisAnswers("127.0.0.1", 6379))
    resolved = { url: "redis://127.0.0.1:6379", source: "127.0.0.1:6379" };
  else {
    const server = await startRedisServer();
    resolved = { url: server.url, source: "started redis-server", server };
  }
  process.stderr.write(`[hotpath tests] Redis: ${resolved.url} (${resolved.source})\n`);
  return resolved;
}
