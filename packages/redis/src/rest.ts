// `@hotpath/redis/rest`: the front door without TCP, for edge runtimes (workerd, Vercel Edge, Deno
// Deploy) and browsers: no ioredis, no node:* import. The same names as the main entry, which
// resolves here under the "workerd", "worker", "edge-light" and "browser" conditions. A
// `redis://` URL is refused with REDIS_CONFIG instead of pulling a TCP client into the bundle.
import type { CreateRedisOptions, HotpathRedis, RedisEnv } from "./client.ts";
import { optionsFromEnv, selectTransport } from "./select-transport.ts";

export {
  withRequester,
  redact,
  type CreateRedisOptions,
  type HotpathRedis,
  type HotpathRedisExtras,
  type RedisEnv,
  type RedisHealth,
  type RedisTransport,
} from "./client.ts";
export { isRedisConnectionFailure, type BreakerOptions, type BreakerState } from "./breaker.ts";
export { RedisClientError, type RedisErrorCode } from "./errors.ts";
export { nameScript } from "./tracing.ts";

/**
 * Creates an `@upstash/redis` client over the Upstash REST API (`https://`, or `http://` for a
 * gateway) with the main entry's breaker, tracing and auto-pipelining.
 * @example const redis = createRedis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
 * @throws RedisClientError REDIS_CONFIG for a TCP URL (none here), an unknown scheme or a missing token.
 */
export function createRedis(options: CreateRedisOptions): HotpathRedis {
  return selectTransport(options, undefined);
}

/**
 * Creates a client from `UPSTASH_REDIS_REST_URL` / `UPSTASH_REDIS_REST_TOKEN` (e.g. a Worker's `env`).
 * @throws RedisClientError REDIS_CONFIG when they are missing, or when only a TCP variable is set.
 */
export function redisFromEnv(
  env: RedisEnv,
  options: Omit<CreateRedisOptions, "url" | "token"> = {},
): HotpathRedis {
  return createRedis(optionsFromEnv(env, options));
}
