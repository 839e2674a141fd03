import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { freeClusterPort } from "./ports.ts";
import { startRedisServer, type RedisServerHandle } from "./redis-server.ts";

const run = promisify(execFile);

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNodeInfo {
  readonly id: string;
  readonly port: number;
  readonly role: "master" | "replica";
  /** True when the cluster flags the node as failed (`fail` or `fail?`). */
  readonly failed: boolean;
  /** For a replica: the id of its master. */
  readonly masterId: string | undefined;
  /** True when the node serves at least one slot. */
  readonly servesSlots: boolean;
  /** The slot ranges it serves, inclusive (`[start, end]`). */
  readonly slots: readonly (readonly [number, number])[];
}

/** A local Redis Cluster this process started (3 masters + 3 replicas by default). */
export interface RedisClusterHandle {
  /** Every node, in start order (the first `masters` were created as masters). */
  readonly nodes: readonly RedisServerHandle[];
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,…` (every node is a seed). */
  readonly url: string;
  /** `127.0.0.1:P1,127.0.0.1:P2,…` as `REDIS_CLUSTER_NODES` takes it. */
  readonly seeds: string;
  /** The cluster's view of its nodes, as seen by a node that is running. */
  topology(): Promise<ClusterNodeInfo[]>;
  /** Resolves when every running node reports `cluster_state:ok` and sees the same masters. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /**
   * Kills the master that serves `slot` (SIGKILL, by its pid) and returns its port; the cluster
   * then promotes its replica after `cluster-node-timeout`.
   */
  killMasterOf(slot: number): Promise<number>;
  /** Stops every node by pid and removes their directories. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /** Master count (each gets one replica). @default 3 */
  masters?: number;
  /** `cluster-node-timeout` in ms: how long until a silent master is failed over. @default 1000 */
  nodeTimeoutMs?: number;
  /** How long to wait for the cluster to form. @default 30000 */
  readyTimeoutMs?: number;
}

/** Runs one redis-cli command against a node and returns its raw output. */
export async function clusterCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], {
    timeout: 5000,
  });
  return stdout;
}

/** Parses the output of `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [id = "", address = "", flags = "", master = "-", , , , , ...slots] = line.split(" ");
      const flagList = flags.split(",");
      return {
        id,
        port: Number(address.split("@")[0]?.split(":").at(-1)),
        role: flagList.includes("master") ? "master" : "replica",
        failed: flagList.includes("fail") || flagList.includes("fail?"),
        masterId: master === "-" ? undefined : master,
        servesSlots: slots.length > 0,
        // Importing/migrating markers (`[…]`) are not served slots.
        slots: slots
          .filter((range) => !range.startsWith("["))
          .map((range) => {
            const [start = "0", end = start] = range.split("-");
            return [Number(start), Number(end)] as const;
          }),
      } satisfies ClusterNodeInfo;
    });
}

/** The port of the master that serves `slot` in a topology, or `undefined` when none does. */
export function masterPortOfSlot(
  topology: readonly ClusterNodeInfo[],
  slot: number,
): number | undefined {
  return topology.find(
    (node) =>
      node.role === "master" &&
      !node.failed &&
      node.slots.some(([start, end]) => slot >= start && slot <= end),
  )?.port;
}

/**
 * How many of `keys` each master holds (by port; `undefined` counts keys of a slot no master
 * serves), with `slotOf` the key-slot function (`keySlot` of `@hotpath/config`).
 */
export function keysPerMaster(
  topology: readonly ClusterNodeInfo[],
  keys: readonly string[],
  slotOf: (key: string) => number,
): Map<number | undefined, number> {
  const counts = new Map<number | undefined, number>();
  for (const key of keys) {
    const port = masterPortOfSlot(topology, slotOf(key));
    counts.set(port, (counts.get(port) ?? 0) + 1);
  }
  return counts;
}

function clusterArgs(nodeTimeoutMs: number): string[] {
  return [
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-node-timeout",
    String(nodeTimeoutMs),
    "--dir",
    ".",
  ];
}

/**
 * Starts a local Redis Cluster: `masters` × 2 `redis-server --cluster-enabled yes` nodes on free
 * ports (each in its own directory), joined by `redis-cli --cluster create … --cluster-replicas 1`,
 * and waits until every node reports `cluster_state:ok` and every master has a replica in sync.
 * @example const cluster = await startRedisCluster(); createRedis({ url: cluster.url })
 * @throws Error when a node does not start or the cluster does not form within `readyTimeoutMs`.
 */
export async function startRedisCluster(
  options: StartRedisClusterOptions = {},
): Promise<RedisClusterHandle> {
  const masterCount = options.masters ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const root = await mkdtemp(join(tmpdir(), "hotpath-cluster-"));
  const nodes: RedisServerHandle[] = [];
  let stopped: Promise<void> | undefined;

  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all(nodes.map((node) => node.stop({ hard: true })));
      await rm(root, { recursive: true, force: true });
    })());

  const running = () => nodes.filter((node) => node.pid !== undefined);

  const topology = async () => {
    let lastError: unknown;
    for (const node of running()) {
      try {
        return parseClusterNodes(await clusterCli(node.port, "CLUSTER", "NODES"));
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error("No running cluster node answered CLUSTER NODES", { cause: lastError });
  };

  const healthy = async (): Promise<boolean> => {
    for (const node of running()) {
      const info = await clusterCli(node.port, "CLUSTER", "INFO").catch(() => "");
      if (!info.includes("cluster_state:ok")) return false;
    }
    const view = await topology();
    const alive = new Set(running().map((node) => node.port));
    const masters = view.filter((n) => n.role === "master" && n.servesSlots && !n.failed);
    if (masters.length !== masterCount || masters.some((m) => !alive.has(m.port))) return false;
    // Every master with a live replica must have it linked and in sync (failover needs one).
    for (const master of masters) {
      const replicas = view.filter((n) => n.masterId === master.id && alive.has(n.port));
      if (replicas.length === 0) continue;
      const replication = await clusterCli(master.port, "INFO", "replication").catch(() => "");
      const online = replication.match(/^slave\d+:.*state=online/gm)?.length ?? 0;
      if (online < replicas.length) return false;
    }
    return true;
  };

  const waitUntilHealthy = async (timeoutMs = options.readyTimeoutMs ?? 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await healthy())) {
      if (Date.now() > deadline)
        throw new Error(`The Redis Cluster did not become healthy within ${timeoutMs} ms`);
      await sleep(100);
    }
  };

  try {
    for (let index = 0; index < masterCount * 2; index++) {
      const dir = join(root, `node-${index}`);
      await mkdir(dir);
      nodes.push(
        await startRedisServer({
          port: await freeClusterPort(),
          args: clusterArgs(nodeTimeoutMs),
          cwd: dir,
        }),
      );
    }
    await run(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        "--cluster-replicas",
        "1",
        "--cluster-yes",
      ],
      { timeout: 60_000 },
    );
    await waitUntilHealthy();
  } catch (error) {
    await stop();
    throw error;
  }

  const seeds = nodes.map((node) => `127.0.0.1:${node.port}`).join(",");
  return {
    nodes,
    url: `redis+cluster://${seeds}`,
    seeds,
    topology,
    waitUntilHealthy,
    async killMasterOf(slot) {
      const master = (await topology()).find(
        (candidate) =>
          candidate.role === "master" &&
          !candidate.failed &&
          candidate.slots.some(([start, end]) => start <= slot && slot <= end),
      );
      if (!master) throw new Error(`No live master serves slot ${slot}`);
      const port = master.port;
      const node = nodes.find((candidate) => candidate.port === port);
      if (!node) throw new Error(`Slot ${slot} is served by an unknown node on port ${port}`);
      await node.stop({ hard: true });
      return port;
    },
    stop,
  };
}
