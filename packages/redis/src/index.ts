// The front door: what a user of @hotpath/redis needs. The building blocks the gateway and the
// other packages share (command executor, reply conversion, timeouts) are in ./internal.ts.
export { createRedis, redisFromEnv } from "./create-redis.ts";
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
