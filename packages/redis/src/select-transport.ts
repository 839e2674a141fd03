import { Redis } from "@upstash/redis";
import {
  extend,
  redact,
  wrap,
  type CreateRedisOptions,
  type HotpathRedis,
  type RedisEnv,
} from "./client.ts";
import { clusterUrlOfNodes, isClusterUrl, parseClusterUrl } from "./cluster-url.ts";
import { RedisClientError } from "./errors.ts";
import { RestRequester } from "./rest-requester.ts";
import { AutoPipelinedRedis } from "./sdk-client.ts";

/**
 * Builds a TCP client (`redis://`, `rediss://`, `redis+cluster://`); `traceUrl` is the address
 * spans name as the server. Only the Node entry has one: the REST-only entry passes none.
 */
export type TcpClientFactory = (
  options: CreateRedisOptions,
  timeoutMs: number,
  traceUrl?: string,
) => HotpathRedis;

/**
 * `createRedis` of an entry point: the URL's scheme picks the transport; REST is always there,
 * TCP only when the entry hands in `tcp`.
 * @throws RedisClientError REDIS_CONFIG for an unknown scheme, a REST URL without token, or a TCP
 * URL where the entry has no TCP client.
 */
export function selectTransport(
  options: CreateRedisOptions,
  tcp: TcpClientFactory | undefined,
): HotpathRedis {
  const timeoutMs = options.timeoutMs ?? 1000;
  if (isClusterUrl(options.url)) {
    // Spans name the first seed as the server (a cluster has no one address).
    const seed = parseClusterUrl(options.url).seeds[0];
    return requireTcp(tcp, options.url)(options, timeoutMs, `redis://${seed?.host}:${seed?.port}`);
  }
  let protocol: string;
  try {
    protocol = new URL(options.url).protocol;
  } catch (error) {
    throw new RedisClientError("REDIS_CONFIG", `Invalid Redis URL "${redact(options.url)}"`, {
      cause: error,
    });
  }
  if (protocol === "https:" || protocol === "http:") return createRestRedis(options, timeoutMs);
  if (protocol === "redis:" || protocol === "rediss:") {
    return requireTcp(tcp, options.url)(options, timeoutMs);
  }
  throw new RedisClientError(
    "REDIS_CONFIG",
    `Unsupported Redis URL scheme "${protocol}" in ${redact(options.url)}: use https://, http://, redis://, rediss:// or redis+cluster://`,
  );
}

function requireTcp(tcp: TcpClientFactory | undefined, url: string): TcpClientFactory {
  if (tcp) return tcp;
  throw new RedisClientError(
    "REDIS_CONFIG",
    `${redact(url)} needs a TCP connection, which this build of @hotpath/redis (the REST-only one, for edge runtimes and browsers) does not have: use the Upstash REST URL and token (or a gateway's)`,
  );
}

function createRestRedis(options: CreateRedisOptions, timeoutMs: number): HotpathRedis {
  if (!options.token) {
    throw new RedisClientError(
      "REDIS_CONFIG",
      `A token is required for the REST URL ${redact(options.url)}`,
    );
  }
  // Reads may be sent again after a lost connection; writes never are (they may have run).
  const { requester, breaker } = wrap(
    new RestRequester({ url: options.url, token: options.token, timeoutMs }),
    options,
    "rest",
  );
  const redis =
    (options.autoPipelining ?? true) ? new AutoPipelinedRedis(requester) : new Redis(requester);
  return extend(redis, "rest", requester, breaker, () => Promise.resolve());
}

/**
 * The options `redisFromEnv` creates a client with: the Upstash REST pair when set, else
 * `REDIS_URL`, else `REDIS_CLUSTER_NODES`.
 * @throws RedisClientError REDIS_CONFIG naming the options when none is set.
 */
export function optionsFromEnv(
  env: RedisEnv,
  options: Omit<CreateRedisOptions, "url" | "token">,
): CreateRedisOptions {
  if (env.UPSTASH_REDIS_REST_URL) {
    if (!env.UPSTASH_REDIS_REST_TOKEN) {
      throw new RedisClientError(
        "REDIS_CONFIG",
        "UPSTASH_REDIS_REST_URL is set but UPSTASH_REDIS_REST_TOKEN is not",
      );
    }
    return { ...options, url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN };
  }
  if (env.REDIS_URL) return { ...options, url: env.REDIS_URL };
  if (env.REDIS_CLUSTER_NODES) {
    return { ...options, url: clusterUrlOfNodes(env.REDIS_CLUSTER_NODES) };
  }
  throw new RedisClientError(
    "REDIS_CONFIG",
    "No Redis configured: set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (Upstash REST), REDIS_URL (redis://… over TCP), or REDIS_CLUSTER_NODES (host:port,… of a Redis Cluster)",
  );
}
