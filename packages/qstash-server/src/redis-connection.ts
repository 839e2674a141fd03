import { isClusterUrl, parseClusterUrl } from "@hotpath/redis/internal";
import { Cluster, Redis, type RedisOptions } from "ioredis";

/** A connection of the server: one Redis, or a Redis Cluster (commands go to their slot's node). */
export type RedisConnection = Redis | Cluster;

/** Options of {@link openRedis}: the ioredis options of each node connection. */
export interface OpenRedisOptions {
  /** ioredis options of the connection (of every node connection on a cluster). */
  readonly node: RedisOptions;
  /** Send the commands of one tick in one write per node. @default false */
  readonly autoPipelining?: boolean;
}

/** True when `url` names a Redis Cluster (`redis+cluster://h1:p1,h2:p2`, `rediss+cluster://…`). */
export function isClusterRedisUrl(url: string): boolean {
  return isClusterUrl(url);
}

/**
 * Opens `url`: an ioredis `Cluster` over the seeds of a `redis+cluster://` URL (credentials and
 * TLS from the URL, on every node), else one ioredis `Redis`. Errors surface on the commands.
 * @throws RedisClientError REDIS_CONFIG for a malformed cluster URL.
 */
export function openRedis(url: string, options: OpenRedisOptions): RedisConnection {
  const autoPipelining = options.autoPipelining ?? false;
  let connection: RedisConnection;
  if (isClusterUrl(url)) {
    const cluster = parseClusterUrl(url);
    connection = new Cluster(cluster.seeds, {
      enableAutoPipelining: autoPipelining,
      // Slots move on failover: follow MOVED/ASK, and retry while the cluster says it is down.
      maxRedirections: 16,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      clusterRetryStrategy: (times) => Math.min(1000, 50 * times),
      redisOptions: {
        ...options.node,
        username: cluster.username,
        password: cluster.password,
        ...(cluster.tls ? { tls: {} } : {}),
      },
    });
  } else {
    connection = new Redis(url, { ...options.node, enableAutoPipelining: autoPipelining });
  }
  connection.on("error", () => undefined);
  return connection;
}
