import { createRedis, type HotpathRedis } from "@hotpath/redis";
import { afterAll, beforeAll } from "vitest";
import { keysPerMaster, startRedisCluster, type RedisClusterHandle } from "./redis-cluster.ts";

/** How a test reaches the cluster: TCP (ioredis Cluster) or REST through the gateway in front of it. */
export type ClusterTransport = "tcp" | "rest";

/** A gateway in front of a Redis URL, as `startGateway` of `@hotpath/gateway` runs one. */
export interface ClusterGateway {
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

/** What {@link useRedisCluster} needs from the test file (passed in: this package imports neither). */
export interface ClusterHarnessOptions {
  /** `startGateway` of `@hotpath/gateway`. */
  startGateway: (options: { redisUrl: string; port: number }) => Promise<ClusterGateway>;
  /** `keySlot` of `@hotpath/config`. */
  keySlot: (key: string) => number;
}

/** What {@link useRedisCluster} gives a test file. */
export interface ClusterHarness {
  /** The running cluster (between the file's beforeAll and afterAll). */
  readonly cluster: RedisClusterHandle;
  /** Where a client of `transport` connects: the cluster's URL, or the gateway's URL and token. */
  readonly target: (transport: ClusterTransport) => { url: string; token?: string };
  /** A new client of the cluster over `transport`, closed after the file. */
  readonly client: (transport: ClusterTransport) => HotpathRedis;
  /** The ports of the masters serving `keys` (a key no master serves counts as -1). */
  readonly mastersOf: (keys: readonly string[]) => Promise<Set<number>>;
}

/**
 * Starts ONE local Redis Cluster (3 masters + 3 replicas, ~8 s) and one gateway in front of it
 * for the calling test file (beforeAll), and stops both after it (afterAll). Call it at the
 * file's top level.
 * @example const { client } = useRedisCluster({ startGateway, keySlot }); const redis = client("tcp");
 */
export function useRedisCluster(options: ClusterHarnessOptions): ClusterHarness {
  let cluster: RedisClusterHandle | undefined;
  let gateway: ClusterGateway | undefined;
  const clients: HotpathRedis[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    gateway = await options.startGateway({ redisUrl: cluster.url, port: 0 });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await gateway?.close();
    await cluster?.stop();
  });

  const running = () => {
    if (!cluster || !gateway) throw new Error("the cluster is used outside the file's tests");
    return { cluster, gateway };
  };
  const target = (transport: ClusterTransport) => {
    const { cluster: c, gateway: g } = running();
    return transport === "tcp" ? { url: c.url } : { url: g.url, token: g.token };
  };

  return {
    get cluster() {
      return running().cluster;
    },
    target,
    client: (transport) => {
      const client = createRedis({ ...target(transport), timeoutMs: 5000 });
      clients.push(client);
      return client;
    },
    mastersOf: async (keys) => {
      const perMaster = keysPerMaster(await running().cluster.topology(), keys, options.keySlot);
      return new Set([...perMaster.keys()].map((port) => port ?? -1));
    },
  };
}
