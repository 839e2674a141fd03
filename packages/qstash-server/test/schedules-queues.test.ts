import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDestination, startTestServer, waitFor, type Destination } from "./helpers.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let destination: Destination;

beforeAll(async () => {
  server = await startTestServer();
  destination = await startDestination();
});
afterAll(async () => {
  await server?.close();
  await destination?.close();
});

const at = (path: string) => destination.received.filter((r) => r.path === path);

describe("schedules", () => {
  it("fires on its cron (6-field seconds form) with Upstash-Schedule-Id; pause stops it, resume restarts it", async () => {
    expect(await server.client.schedules.list()).toEqual([]);
    const { scheduleId } = await server.client.schedules.create({
      destination: `${destination.url}/every-second`,
      cron: " * * * * * * ",
      body: JSON.stringify({ tick: true }),
      headers: { "Test-Header": "v" },
      retries: 2,
      label: "cron",
    });
    const first = await waitFor(() => at("/every-second")[0], "the first firing");
    expect(first.verified).toBe(true);
    expect(first.headers["upstash-schedule-id"]).toBe(scheduleId);
    expect(first.body).toBe('{"tick":true}');
    const schedule = await server.client.schedules.get(scheduleId);
    expect(schedule).toMatchObject({
      scheduleId,
      cron: "* * * * * *",
      destination: `${destination.url}/every-second`,
      method: "POST",
      retries: 2,
      isPaused: false,
      labels: ["cron"],
    });
    expect(schedule.header).toEqual({ "Content-Type": ["application/json"], "Test-Header": ["v"] });
    expect(schedule.nextScheduleTime).toBeGreaterThan(0);
    expect(schedule.lastScheduleTime).toBeGreaterThan(0);
    // A firing's state turns SUCCESS once its message is delivered.
    await waitFor(async () => {
      const states = (await server.client.schedules.get(scheduleId)).lastScheduleStates ?? {};
      return Object.values(states).includes("SUCCESS");
    }, "a SUCCESS in lastScheduleStates");

    await server.client.schedules.pause({ schedule: scheduleId });
    expect((await server.client.schedules.get(scheduleId)).isPaused).toBe(true);
    // Messages the schedule created before the pause may still be delivered; no new one may be.
    const createdBy = async () =>
      (
        await server.client.events({ filter: { scheduleId, state: "CREATED" }, count: 1000 })
      ).events.map((e) => e.messageId);
    const beforePause = new Set(await createdBy());
    const marker = await server.client.publishJSON({
      url: `${destination.url}/marker`,
      body: {},
      delay: 3,
    });
    await waitFor(
      () => destination.received.some((r) => r.headers["upstash-message-id"] === marker.messageId),
      "3 s to pass",
      20_000,
    );
    expect(new Set(await createdBy())).toEqual(beforePause);
    const delivered = at("/every-second").map((r) => String(r.headers["upstash-message-id"]));
    expect(delivered.every((id) => beforePause.has(id))).toBe(true);
    const afterPause = at("/every-second").length;

    await server.client.schedules.resume({ schedule: scheduleId });
    await waitFor(() => at("/every-second").length > afterPause, "a firing after resume");
    await server.client.schedules.delete(scheduleId);
    await expect(server.client.schedules.get(scheduleId)).rejects.toThrow(/not found/);
  });

  it("upserts by Upstash-Schedule-Id: the same id replaces the schedule", async () => {
    await server.client.schedules.create({
      destination: `${destination.url}/upsert`,
      cron: "0 0 1 1 *",
      scheduleId: "fixed-id",
      body: "first",
    });
    await server.client.schedules.create({
      destination: `${destination.url}/upsert2`,
      cron: "0 0 2 1 *",
      scheduleId: "fixed-id",
    });
    const schedule = await server.client.schedules.get("fixed-id");
    expect(schedule).toMatchObject({
      cron: "0 0 2 1 *",
      destination: `${destination.url}/upsert2`,
    });
    expect(schedule.body).toBeUndefined();
    const ids = (await server.client.schedules.list()).map((s) => s.scheduleId);
    expect(ids.filter((id) => id === "fixed-id")).toHaveLength(1);
    await server.client.schedules.delete("fixed-id");
  });

  it("rejects bad cron strings before BullMQ sees them", async () => {
    for (const cron of [
      "",
      "* * *",
      "61 * * * *",
      "* * * * * * *",
      "every minute",
      "*/0 * * * *",
    ]) {
      await expect(
        server.client.schedules.create({ destination: `${destination.url}/bad`, cron }),
        cron,
      ).rejects.toThrow(/Upstash-Cron/);
    }
    expect(
      (await server.client.schedules.list()).filter((s) => s.destination.endsWith("/bad")),
    ).toEqual([]);
  });
});

describe("queues", () => {
  it("parallelism 1 delivers in order, one at a time", async () => {
    const queue = server.client.queue({ queueName: "ordered" });
    await queue.upsert({ parallelism: 1 });
    const slow = await startDestination({ respond: () => ({ status: 200, holdMs: 20 }) });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { messageId } = await queue.enqueueJSON({ url: `${slow.url}/q/${i}`, body: { i } });
      ids.push(messageId);
    }
    try {
      await waitFor(() => slow.received.length === 10, "10 deliveries");
      expect(slow.received.map((r) => r.path)).toEqual(ids.map((_, i) => `/q/${i}`));
      // Each delivery starts only after the previous one was answered.
      expect(slow.maxConcurrent).toBe(1);
      const info = await queue.get();
      expect(info).toMatchObject({ name: "ordered", parallelism: 1, paused: false, lag: 0 });
    } finally {
      await slow.close();
    }
  });

  it("pause holds deliveries, resume releases them; list and delete", async () => {
    const queue = server.client.queue({ queueName: "pausable" });
    await queue.upsert({ parallelism: 2 });
    await queue.pause();
    expect((await queue.get()).paused).toBe(true);
    const { messageId } = await queue.enqueueJSON({ url: `${destination.url}/paused`, body: {} });
    const marker = await server.client.publishJSON({
      url: `${destination.url}/marker2`,
      body: {},
      delay: 1,
    });
    await waitFor(
      () => destination.received.some((r) => r.headers["upstash-message-id"] === marker.messageId),
      "a later delivery",
    );
    expect(at("/paused")).toHaveLength(0);
    expect((await queue.get()).lag).toBe(1);
    await queue.resume();
    await waitFor(() => at("/paused").length === 1, "the released delivery");
    expect(at("/paused")[0]?.headers["upstash-message-id"]).toBe(messageId);
    const names = (await server.client.queue().list()).map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(["ordered", "pausable"]));
    await queue.delete();
    await expect(queue.get()).rejects.toThrow(/not found/);
  });

  it("enqueue creates the queue with parallelism 1", async () => {
    await server.client
      .queue({ queueName: "auto" })
      .enqueueJSON({ url: `${destination.url}/auto`, body: {} });
    expect(await server.client.queue({ queueName: "auto" }).get()).toMatchObject({
      name: "auto",
      parallelism: 1,
    });
  });
});

describe("URL groups", () => {
  it("fans a publish out to every endpoint, each verified", async () => {
    const group = server.client.urlGroups;
    await group.addEndpoints({
      name: "fanout",
      endpoints: [
        { name: "one", url: `${destination.url}/fan/1` },
        { url: `${destination.url}/fan/2` },
      ],
    });
    const listed = await group.list();
    expect(listed[0]?.name).toBe("fanout");
    expect(listed[0]?.endpoints).toContainEqual({ name: "one", url: `${destination.url}/fan/1` });
    const results = await server.client.publishJSON({ urlGroup: "fanout", body: { fan: true } });
    expect(results).toHaveLength(2);
    await waitFor(() => at("/fan/1").length === 1 && at("/fan/2").length === 1, "both endpoints");
    expect(at("/fan/1")[0]?.headers["upstash-topic-name"]).toBe("fanout");
    expect(at("/fan/1")[0]?.verified && at("/fan/2")[0]?.verified).toBe(true);
    await group.removeEndpoints({ name: "fanout", endpoints: [{ name: "one" }] });
    expect((await group.get("fanout")).endpoints).toEqual([
      { name: "", url: `${destination.url}/fan/2` },
    ]);
    await group.delete("fanout");
    await expect(group.get("fanout")).rejects.toThrow(/not found/);
    await expect(server.client.publishJSON({ urlGroup: "fanout", body: {} })).rejects.toThrow(
      /not found/,
    );
  });
});

describe("flow control", () => {
  it("limits parallelism and rate per key", async () => {
    const held = await startDestination({ respond: () => ({ status: 200, holdMs: 200 }) });
    try {
      // One batch: all six are ready at once, so only the limit keeps them from running together.
      await server.client.batchJSON(
        Array.from({ length: 6 }, (_, i) => ({
          url: `${held.url}/par/${i}`,
          body: {},
          flowControl: { key: "par-key", parallelism: 2 },
        })),
      );
      await waitFor(() => held.received.length === 6, "6 deliveries");
      expect(held.maxConcurrent).toBeLessThanOrEqual(2);
      await server.client.batchJSON(
        Array.from({ length: 4 }, (_, i) => ({
          url: `${held.url}/rate/${i}`,
          body: {},
          flowControl: { key: "rate-key", rate: 2, period: 1 },
        })),
      );
      const rated = () => held.received.filter((r) => r.path.startsWith("/rate/"));
      await waitFor(() => rated().length === 4, "4 deliveries");
      const times = rated().map((r) => r.at);
      // 2 per second: the 3rd and 4th wait for the next period.
      expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(900);
    } finally {
      await held.close();
    }
  });

  it("exists once a message uses it; pin, unpin, pause, resume and resetRate", async () => {
    const { messageId } = await server.client.publishJSON({
      url: `${destination.url}/fc`,
      body: {},
      flowControl: { key: "fc-key", parallelism: 2, rate: 5, period: "1m" },
    });
    await waitFor(
      () => destination.received.some((r) => r.headers["upstash-message-id"] === messageId),
      "the delivery",
    );
    const api = server.client.flowControl;
    expect(await api.get("fc-key")).toMatchObject({
      flowControlKey: "fc-key",
      parallelismMax: 2,
      rateMax: 5,
      ratePeriod: 60,
      isPaused: false,
    });
    await api.pin("fc-key", { parallelism: 7, rate: 9, period: 10 });
    expect(await api.get("fc-key")).toMatchObject({
      parallelismMax: 7,
      rateMax: 9,
      ratePeriod: 10,
      isPinnedParallelism: true,
      isPinnedRate: true,
    });
    await api.unpin("fc-key", { parallelism: true });
    expect(await api.get("fc-key")).toMatchObject({
      isPinnedParallelism: false,
      isPinnedRate: true,
    });
    await api.pause("fc-key");
    expect((await api.get("fc-key")).isPaused).toBe(true);
    await api.resume("fc-key");
    await api.resetRate("fc-key");
    expect(await api.get("fc-key")).toMatchObject({ isPaused: false, rateCount: 0 });
    const global = await server.client.flowControl.getGlobalParallelism();
    expect(global.parallelismMax).toBeGreaterThan(0);
  });
});
