export { freePort, freeClusterPort } from "./ports.ts";
export {
  redisAnswers,
  startRedisServer,
  type RedisServerHandle,
  type StartRedisServerOptions,
} from "./redis-server.ts";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";
export { resolveTestRedis, type TestRedisSource } from "./resolve-redis.ts";
export {
  TRANSPORTS,
  uniquePrefix,
  testTargets,
  openTestRedis,
  deletePrefix,
} from "./test-redis.ts";
export {
  startRedisCluster,
  clusterCli,
  parseClusterNodes,
  masterPortOfSlot,
  keysPerMaster,
  type RedisClusterHandle,
  type ClusterNodeInfo,
  type StartRedisClusterOptions,
} from "./redis-cluster.ts";
export {
  findLuaScripts,
  scriptKeyViolations,
  type FoundScript,
  type ScriptKeyViolation,
} from "./script-keys.ts";
export {
  useRedisCluster,
  type ClusterGateway,
  type ClusterHarness,
  type ClusterHarnessOptions,
  type ClusterTransport,
} from "./cluster-harness.ts";
export { scanAll, writeScanKeys, type ScanPage } from "./scan.ts";
export { TS_ENTRY_ARGS } from "./ts-entry.ts";
