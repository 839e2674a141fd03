import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clusterCli,
  parseClusterNodes,
  startRedisCluster,
  type RedisClusterHandle,
} from "../src/index.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("parseClusterNodes", () => {
  it("reads roles, failure flags, masters and slot ranges", () => {
    const nodes = parseClusterNodes(
      [
        "a1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 [5461->-b2]",
        "b2 127.0.0.1:30002@40002 master,fail - 0 0 2 connected 5461 5462-10922",
        "c3 127.0.0.1:30003@40003 slave a1 0 0 1 connected",
      ].join("\n"),
    );
    expect(nodes).toEqual([
      {
        id: "a1",
        port: 30001,
        role: "master",
        failed: false,
        masterId: undefined,
        servesSlots: true,
        slots: [[0, 5460]],
      },
      {
        id: "b2",
        port: 30002,
        role: "master",
        failed: true,
        masterId: undefined,
        servesSlots: true,
        slots: [
          [5461, 5461],
          [5462, 10922],
        ],
      },
      {
        id: "c3",
        port: 30003,
        role: "replica",
        failed: false,
        masterId: "a1",
        servesSlots: false,
        slots: [],
      },
    ]);
  });
});

describe("startRedisCluster", () => {
  let cluster: RedisClusterHandle;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it("forms 3 masters with one replica each, on their own ports, never 6379", async () => {
    expect(cluster.nodes).toHaveLength(6);
    expect(cluster.nodes.map((node) => node.port)).not.toContain(6379);
    expect(cluster.url).toBe(`redis+cluster://${cluster.seeds}`);
    const view = await cluster.topology();
    const masters = view.filter((node) => node.role === "master");
    expect(masters).toHaveLength(3);
    for (const master of masters)
      expect(view.filter((node) => node.masterId === master.id)).toHaveLength(1);
    const served = masters
      .flatMap((m) => m.slots)
      .reduce((sum, [start, end]) => sum + end - start + 1, 0);
    expect(served).toBe(16384);
    for (const node of cluster.nodes)
      expect(await clusterCli(node.port, "CLUSTER", "INFO")).toContain("cluster_state:ok");
  });

  it("fails a killed master over to its replica and is healthy again", async () => {
    const slot = Number(
      (await clusterCli(cluster.nodes[0]!.port, "CLUSTER", "KEYSLOT", "probe")).trim(),
    );
    const before = (await cluster.topology()).find(
      (node) => node.role === "master" && node.slots.some(([s, e]) => s <= slot && slot <= e),
    );
    const killedPort = await cluster.killMasterOf(slot);
    expect(killedPort).toBe(before?.port);
    const killed = cluster.nodes.find((node) => node.port === killedPort);
    expect(killed?.pid).toBeUndefined();
    await cluster.waitUntilHealthy(20_000);
    const after = (await cluster.topology()).find(
      (node) =>
        node.role === "master" &&
        !node.failed &&
        node.slots.some(([s, e]) => s <= slot && slot <= e),
    );
    expect(after?.port).toBeDefined();
    expect(after?.port).not.toBe(killedPort);
  });

  it("stops every node by pid", async () => {
    const pids = cluster.nodes.map((node) => node.pid).filter((pid) => pid !== undefined);
    await cluster.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
