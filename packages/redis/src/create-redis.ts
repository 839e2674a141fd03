import { Redis } from "@upstash/redis";
import {
  extend,
  wrap,
  type CreateRedisOptions,
  type HotpathRedis,
  type RedisEnv,
} from "./client.ts";
import { CommandExecutor } from "./executor.ts";
import { optionsFromEnv, selectTransport } from "./select-transport.ts";
import { TcpRequester } from "./tcp-requester.ts";

/**
 * Creates an `@upstash/redis` client whose transport is chosen by the URL: `https://`/`http://`
 * is the Upstash REST API (as in production), `redis://`/`rediss://` is TCP in-process with the
 * same result shapes, pipelines, transactions and script handling.
 * @example const redis = createRedis({ url: "redis://127.0.0.1:6379" });
 * @throws RedisClientError REDIS_CONFIG for an unknown scheme or a REST URL without token.
 */
export function createRedis(options: CreateRedisOptions): HotpathRedis {
  return selectTransport(options, createTcpRedis);
}

function createTcpRedis(
  options: CreateRedisOptions,
  timeoutMs: number,
  traceUrl = options.url,
): HotpathRedis {
  const executor = new CommandExecutor({
    url: options.url,
    timeoutMs,
    connectionName: options.connectionName,
  });
  const { requester, breaker } = wrap(new TcpRequester(executor), options, "tcp", traceUrl);
  return extend(new Redis(requester), "tcp", requester, breaker, () => executor.close());
}

/**
 * Creates a client from environment values: the Upstash REST pair when set, else `REDIS_URL`, else
 * `REDIS_CLUSTER_NODES`.
 * @throws RedisClientError REDIS_CONFIG naming both options when neither is set.
 */
export function redisFromEnv(
  env: RedisEnv,
  options: Omit<CreateRedisOptions, "url" | "token"> = {},
): HotpathRedis {
  return createRedis(optionsFromEnv(env, options));
}
