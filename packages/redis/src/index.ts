export {
  createRedis,
  redisFromEnv,
  redact,
  type CreateRedisOptions,
  type HotpathRedis,
  type HotpathRedisExtras,
  type RedisEnv,
  type RedisHealth,
  type RedisTransport,
} from "./create-redis.ts";
export {
  CommandExecutor,
  isRedisReplyError,
  type CommandExecutorOptions,
  type ItemReply,
  type PubSubEvent,
  type Subscription,
} from "./executor.ts";
export { TcpRequester, formatPubSubEvent } from "./tcp-requester.ts";
export { IntegerReply, replyToJson, replyToValue, type RawReply } from "./reply.ts";
export { ScriptNormaliser, rewriteScriptCommand, scriptSha1 } from "./script-normaliser.ts";
export { normaliseCommand, type CommandArgs } from "./command.ts";
export { RedisClientError, type RedisErrorCode } from "./errors.ts";
export { isRedisConnectionFailure, type BreakerOptions, type BreakerState } from "./breaker.ts";
