import { RedisClientError } from "./errors.ts";

/** One seed node of a Redis Cluster. */
export interface ClusterSeed {
  host: string;
  port: number;
}

/** A parsed `redis+cluster://` / `rediss+cluster://` URL. */
export interface ClusterUrl {
  seeds: ClusterSeed[];
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]*)\/?$/;

/** True for a `redis+cluster://…` or `rediss+cluster://…` URL. */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//.test(url);
}

/**
 * Parses `redis+cluster://[user:pass@]h1:p1,h2:p2,…` (every node listed is a seed; the client
 * discovers the rest from the cluster).
 * @throws RedisClientError REDIS_CONFIG naming what is wrong.
 */
export function parseClusterUrl(url: string): ClusterUrl {
  const match = CLUSTER_SCHEME.exec(url);
  if (!match) {
    throw new RedisClientError(
      "REDIS_CONFIG",
      "A cluster URL reads redis+cluster://host:port,host:port (or rediss+cluster://)",
    );
  }
  const seeds = (match[4] ?? "")
    .split(",")
    .filter((part) => part !== "")
    .map((part): ClusterSeed => {
      const at = part.lastIndexOf(":");
      const port = Number(part.slice(at + 1));
      if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) {
        throw new RedisClientError(
          "REDIS_CONFIG",
          `Cluster seed "${part}" must read host:port (port 1-65535)`,
        );
      }
      return { host: part.slice(0, at).replace(/^\[|\]$/g, ""), port };
    });
  if (seeds.length === 0) {
    throw new RedisClientError("REDIS_CONFIG", "A cluster URL needs at least one host:port seed");
  }
  const decode = (text: string | undefined) =>
    text === undefined || text === "" ? undefined : decodeURIComponent(text);
  return {
    seeds,
    username: decode(match[2]),
    password: decode(match[3]),
    tls: match[1] === "rediss",
  };
}

/** The seeds of `REDIS_CLUSTER_NODES` (`h1:p1,h2:p2`) as a `redis+cluster://` URL. */
export function clusterUrlOfNodes(nodes: string): string {
  return `redis+cluster://${nodes.replace(/\s+/g, "")}`;
}

/**
 * True for a URL the TCP executor opens: `redis://`, `rediss://`, or a valid
 * `redis+cluster://h1:p1,h2:p2` seed list (the servers' option schemas refine with it).
 */
export function isRedisUrl(value: string): boolean {
  if (isClusterUrl(value)) {
    try {
      parseClusterUrl(value);
      return true;
    } catch {
      return false;
    }
  }
  return /^rediss?:\/\/\S+$/.test(value) && URL.canParse(value);
}
