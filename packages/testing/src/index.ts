export { freePort } from "./ports.ts";
export { redisAnswers, startRedisServer, type RedisServerHandle } from "./redis-server.ts";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";
export { resolveTestRedis, type TestRedisSource } from "./resolve-redis.ts";
export {
  TRANSPORTS,
  uniquePrefix,
  testTargets,
  openTestRedis,
  deletePrefix,
} from "./test-redis.ts";
