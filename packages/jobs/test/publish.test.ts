import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  JobsError,
  createJobHandler,
  createJobPublisher,
  defineJob,
  type JobMetricsSink,
} from "../src/index.ts";
import {
  serveFetchHandler,
  startQStashFixture,
  waitFor,
  type QStashFixture,
  type ServedHandler,
} from "./helpers.ts";

function memoryMetrics(): JobMetricsSink & { get(label: string, counter: string): number } {
  const counts = new Map<string, number>();
  return {
    count(label, counter, by = 1) {
      counts.set(`${label}|${counter}`, (counts.get(`${label}|${counter}`) ?? 0) + by);
    },
    get: (label, counter) => counts.get(`${label}|${counter}`) ?? 0,
  };
}

describe("publishing typed jobs through the local QStash server", () => {
  let fixture: QStashFixture;
  let served: ServedHandler;
  const greeted: { name: string; times: number; messageId: string }[] = [];
  const metrics = memoryMetrics();
  const greet = defineJob(
    "greet",
    z.object({ name: z.string().min(1), times: z.number().int().positive() }),
    ({ name, times }, context) => {
      greeted.push({ name, times, messageId: context.messageId });
    },
  );
  const jobs = [greet] as const;
  let publisher: ReturnType<typeof createJobPublisher<typeof jobs>>;

  beforeAll(async () => {
    fixture = await startQStashFixture();
    served = await serveFetchHandler((url) =>
      createJobHandler({
        jobs,
        receiver: fixture.receiver,
        url,
        idempotency: fixture.idempotency,
        metrics,
      }),
    );
    publisher = createJobPublisher({ client: fixture.client, url: served.url, jobs, metrics });
  });
  afterAll(async () => {
    await served?.close();
    await fixture?.close();
  });

  it("publishes a payload, QStash delivers it signed, the handler runs it once", async () => {
    const { messageId, deduplicated } = await publisher.publish("greet", { name: "ada", times: 2 });
    expect(messageId).toMatch(/\S/);
    expect(deduplicated).toBe(false);
    const run = await waitFor(
      () => greeted.find((entry) => entry.messageId === messageId),
      "the greet job to run",
    );
    expect(run).toEqual({ name: "ada", times: 2, messageId });
    await waitFor(() => served.answers.some((a) => a.messageId === messageId), "the answer");
    expect(served.answers.filter((a) => a.messageId === messageId)).toEqual([
      { status: 200, messageId, retried: "0" },
    ]);
    expect(metrics.get("greet", "jobs_published_total")).toBeGreaterThanOrEqual(1);
    expect(metrics.get("greet", "jobs_delivered_total")).toBeGreaterThanOrEqual(1);
  });

  it("a payload failing its schema throws JOBS_INVALID_PAYLOAD before anything is sent", async () => {
    const before = (await fixture.client.events()).events.length;
    const bad = { name: "", times: 1.5 };
    await expect(publisher.publish("greet", bad)).rejects.toMatchObject({
      name: "JobsError",
      code: "JOBS_INVALID_PAYLOAD",
      job: "greet",
    });
    await expect(publisher.publish("greet", bad)).rejects.toBeInstanceOf(JobsError);
    // One bad item stops the whole batch before the call.
    await expect(
      publisher.batch([
        { job: "greet", payload: { name: "ok", times: 1 } },
        { job: "greet", payload: bad },
      ]),
    ).rejects.toMatchObject({ code: "JOBS_INVALID_PAYLOAD" });
    expect((await fixture.client.events()).events.length).toBe(before);
  });

  it("deduplicationId makes a second publish a no-op", async () => {
    const first = await publisher.publish(
      "greet",
      { name: "dedup", times: 1 },
      { deduplicationId: "greet-dedup-1" },
    );
    const second = await publisher.publish(
      "greet",
      { name: "dedup", times: 1 },
      { deduplicationId: "greet-dedup-1" },
    );
    expect(first.deduplicated).toBe(false);
    expect(second.deduplicated).toBe(true);
    await waitFor(() => greeted.some((entry) => entry.name === "dedup"), "the dedup run");
    expect(greeted.filter((entry) => entry.name === "dedup")).toHaveLength(1);
  });

  it("batch sends several jobs in one call and each runs once", async () => {
    const results = await publisher.batch([
      { job: "greet", payload: { name: "b1", times: 1 } },
      { job: "greet", payload: { name: "b2", times: 2 }, options: { retries: 1 } },
      { job: "greet", payload: { name: "b3", times: 3 }, options: { queue: "greetings" } },
    ]);
    expect(results).toHaveLength(3);
    expect(new Set(results.map((r) => r.messageId)).size).toBe(3);
    await waitFor(
      () => ["b1", "b2", "b3"].every((name) => greeted.some((entry) => entry.name === name)),
      "the batch to run",
    );
    for (const name of ["b1", "b2", "b3"])
      expect(greeted.filter((entry) => entry.name === name)).toHaveLength(1);
  });

  it("schedule creates a cron schedule under a fixed id, idempotently", async () => {
    await publisher.schedule(
      "greet",
      "0 3 * * *",
      { name: "nightly", times: 1 },
      {
        scheduleId: "greet-nightly",
      },
    );
    await publisher.schedule(
      "greet",
      "0 4 * * *",
      { name: "nightly", times: 1 },
      {
        scheduleId: "greet-nightly",
      },
    );
    const schedules = await fixture.client.schedules.list();
    expect(schedules.filter((s) => s.scheduleId === "greet-nightly")).toHaveLength(1);
    const schedule = await fixture.client.schedules.get("greet-nightly");
    expect(schedule.cron).toBe("0 4 * * *");
    expect(schedule.destination).toBe(served.url);
    expect(JSON.parse(schedule.body ?? "{}")).toEqual({
      job: "greet",
      payload: { name: "nightly", times: 1 },
    });
    await expect(
      publisher.schedule("greet", "0 3 * * *", { name: "", times: 0 }, { scheduleId: "bad" }),
    ).rejects.toMatchObject({ code: "JOBS_INVALID_PAYLOAD" });
  });

  it("defining two jobs with one name, or a bad name, throws", () => {
    expect(() =>
      createJobPublisher({ client: fixture.client, url: served.url, jobs: [greet, greet] }),
    ).toThrow(/defined twice/);
    expect(() => defineJob("Bad Name", z.object({}), () => undefined)).toThrow(JobsError);
  });
});
