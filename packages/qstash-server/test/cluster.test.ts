import { startRedisCluster, uniquePrefix, type RedisClusterHandle } from "@hotpath/testing";
import { Client } from "@upstash/qstash";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCliArgs } from "../src/cli-options.ts";
import { startQStashServer, type RunningQStashServer } from "../src/index.ts";
import { startDestination, waitFor, type Destination } from "./helpers.ts";

// One cluster for the whole file: starting 6 nodes and joining them costs seconds.
let cluster: RedisClusterHandle;
let server: RunningQStashServer;
let client: Client;
let destination: Destination;
let failing: Destination;
let clusterStartMs = 0;
const prefix = uniquePrefix("qcl");
const other = {
  token: "cluster-tenant-token-2",
  currentSigningKey: "sig_cluster_current_2",
  nextSigningKey: "sig_cluster_next_2",
};

beforeAll(async () => {
  const started = performance.now();
  cluster = await startRedisCluster();
  clusterStartMs = Math.round(performance.now() - started);
  server = await startQStashServer({
    redisUrl: cluster.url,
    port: 0,
    prefix,
    retryDelayScale: 0.001,
    tenants: [other],
  });
  client = new Client({
    baseUrl: server.url,
    token: server.tenants[0]?.token as string,
    enableTelemetry: false,
  });
  destination = await startDestination();
  failing = await startDestination({ respond: () => ({ status: 503, body: "down" }) });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await destination?.close();
  await failing?.close();
  await cluster?.stop();
  console.info(`qstash-server cluster test: the 6-node cluster started in ${clusterStartMs} ms`);
});

/** Every key under the server's prefix, read from every master, with its slot (CLUSTER KEYSLOT). */
async function allKeys(): Promise<{ key: string; slot: number }[]> {
  const admin = new Cluster(cluster.nodes.map((node) => ({ host: "127.0.0.1", port: node.port })));
  try {
    // The node list is known once the client has read the slots.
    await new Promise<void>((resolve) => admin.once("ready", () => resolve()));
    const keys = (
      await Promise.all(admin.nodes("master").map((node) => node.keys(`${prefix}:*`)))
    ).flat();
    return await Promise.all(
      keys.map(async (key) => ({ key, slot: Number(await admin.cluster("KEYSLOT", key)) })),
    );
  } finally {
    admin.disconnect();
  }
}

describe("the QStash server on a Redis Cluster (redis+cluster:// URL)", () => {
  it("takes a cluster URL as option, --redis or REDIS_CLUSTER_NODES; a seed without a port is refused", async () => {
    expect(parseCliArgs([], { REDIS_CLUSTER_NODES: cluster.seeds })).toMatchObject({
      kind: "start",
      options: { redisUrl: cluster.url },
    });
    await expect(
      startQStashServer({ redisUrl: "redis+cluster://127.0.0.1", port: 0 }),
    ).rejects.toMatchObject({
      code: "QSTASH_CONFIG",
      message: expect.stringMatching(/redis\+cluster:\/\/host:port,host:port/) as unknown,
    });
    await expect(
      startQStashServer({ redisUrl: cluster.url, port: 0, prefix: "qs{}x" }),
    ).rejects.toMatchObject({
      code: "QSTASH_CONFIG",
      message: expect.stringMatching(/prefix: .*empty hash tag/) as unknown,
    });
  });

  it("delivers a published message, signed, and logs it", async () => {
    const { messageId } = await client.publishJSON({
      url: `${destination.url}/hello`,
      body: { hello: "cluster" },
    });
    const delivery = await waitFor(
      () => destination.received.find((r) => r.headers["upstash-message-id"] === messageId),
      "the delivery",
    );
    expect(delivery.verified).toBe(true);
    expect(delivery.body).toBe('{"hello":"cluster"}');
    await waitFor(async () => {
      const { events } = await client.events({ filter: { messageId } });
      return events.some((event) => event.state === "DELIVERED");
    }, "a DELIVERED event");
    await expect(client.messages.get(messageId)).rejects.toThrow(/not found/);
  });

  it("moves a message its destination keeps refusing to the DLQ after every retry", async () => {
    const { messageId } = await client.publishJSON({
      url: `${failing.url}/dlq`,
      body: { fail: true },
      retries: 2,
    });
    const entry = await waitFor(async () => {
      const { messages } = await client.dlq.listMessages({ filter: { messageId } });
      return messages[0];
    }, "the DLQ entry");
    expect(entry).toMatchObject({ messageId, responseStatus: 503, responseBody: "down" });
    const attempts = failing.received.filter((r) => r.headers["upstash-message-id"] === messageId);
    expect(attempts.map((r) => r.headers["upstash-retried"])).toEqual(["0", "1", "2"]);
    await client.dlq.delete(entry.dlqId);
    expect((await client.dlq.listMessages({ filter: { messageId } })).messages).toEqual([]);
  });

  it("fires a schedule and delivers a queue in order (each BullMQ lane on its own slot)", async () => {
    const { scheduleId } = await client.schedules.create({
      destination: `${destination.url}/tick`,
      cron: "* * * * * *",
    });
    const tick = await waitFor(
      () => destination.received.find((r) => r.path === "/tick"),
      "a firing",
    );
    expect(tick.verified).toBe(true);
    expect(tick.headers["upstash-schedule-id"]).toBe(scheduleId);
    await client.schedules.delete(scheduleId);

    const queue = client.queue({ queueName: "ordered" });
    await queue.upsert({ parallelism: 1 });
    for (let i = 0; i < 5; i++)
      await queue.enqueueJSON({ url: `${destination.url}/q/${i}`, body: {} });
    const inQueue = () => destination.received.filter((r) => r.path.startsWith("/q/"));
    await waitFor(() => inQueue().length === 5, "5 queued deliveries");
    expect(inQueue().map((r) => r.path)).toEqual(["/q/0", "/q/1", "/q/2", "/q/3", "/q/4"]);
  });

  it("keeps each tenant's keys on one slot and each lane's BullMQ keys on one slot", async () => {
    // The second tenant writes too, so two tenant spaces exist.
    const second = new Client({ baseUrl: server.url, token: other.token, enableTelemetry: false });
    const { messageId } = await second.publishJSON({ url: `${destination.url}/second`, body: {} });
    await waitFor(
      () => destination.received.some((r) => r.headers["upstash-message-id"] === messageId),
      "the second tenant's delivery",
    );
    const slotsOf = (group: RegExp) => {
      const slots = new Map<string, Set<number>>();
      for (const { key, slot } of keys) {
        const name = group.exec(key)?.[1];
        if (name === undefined) continue;
        slots.set(name, (slots.get(name) ?? new Set()).add(slot));
      }
      return slots;
    };
    const keys = await allKeys();
    const tenants = slotsOf(new RegExp(`^${prefix}:t:\\{([^}]+)\\}:`));
    const lanes = slotsOf(new RegExp(`^${prefix}:bull:\\{([^}]+)\\}:`));
    expect(tenants.size).toBe(2);
    expect([...lanes.keys()]).toEqual(expect.arrayContaining(["deliver", "schedules"]));
    expect(lanes.size).toBeGreaterThanOrEqual(3);
    for (const slots of [...tenants.values(), ...lanes.values()]) expect(slots.size).toBe(1);
    // Nothing is written outside those groups but the lane registry.
    const ungrouped = keys
      .map(({ key }) => key)
      .filter((key) => !key.startsWith(`${prefix}:t:{`) && !key.startsWith(`${prefix}:bull:{`));
    expect(ungrouped).toEqual([`${prefix}:lanes`]);
  });
});
