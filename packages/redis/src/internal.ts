// `@hotpath/redis/internal`: building blocks shared inside the monorepo (the gateway runs the
// same command executor; the cache and rate limiter share the timeout helper). Not the public
// API: see index.ts for that.
export {
  CommandExecutor,
  isRedisReplyError,
  type CommandExecutorOptions,
  type ItemReply,
  type PubSubEvent,
  type Subscription,
} from "./executor.ts";
export { TcpRequester, formatPubSubEvent } from "./tcp-requester.ts";
export {
  clusterUrlOfNodes,
  isClusterUrl,
  isRedisUrl,
  parseClusterUrl,
  type ClusterSeed,
  type ClusterUrl,
} from "./cluster-url.ts";
export { RestRequester, type RestRequesterOptions } from "./rest-requester.ts";
export { IntegerReply, replyToJson, replyToValue, type RawReply } from "./reply.ts";
export { ScriptNormaliser, rewriteScriptCommand, scriptSha1 } from "./script-normaliser.ts";
export { SCAN_WITH_TYPE_SCRIPT } from "./scan-with-type.ts";
export { normaliseCommand, type CommandArgs } from "./command.ts";
export { isReadOnlyCommand, isReadOnlyRequest } from "./read-only.ts";
export { CircuitBreaker } from "./breaker.ts";
export {
  DeadlineSweeper,
  withTimeout,
  type DeadlineSweeperOptions,
  type WithTimeoutOptions,
} from "./timeout.ts";
export { RedisClientError, type RedisErrorCode } from "./errors.ts";
export { AutoPipelinedRedis } from "./sdk-client.ts";
export { CoalescingWriter } from "./coalescing-writer.ts";
