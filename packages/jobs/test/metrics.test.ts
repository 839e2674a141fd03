import { createMetricsRecorder } from "@hotpath/cache/internal";
import { createRedis } from "@hotpath/redis";
import { deletePrefix, uniquePrefix } from "@hotpath/testing";
import { afterAll, describe, expect, inject, it } from "vitest";
import { readJobMetrics } from "../src/index.ts";

describe("readJobMetrics", () => {
  const redis = createRedis({ url: inject("redisUrl"), timeoutMs: 5000 });
  const app = uniquePrefix("jobs-metrics");

  afterAll(async () => {
    await deletePrefix(redis, `${app}:`);
    await redis.close();
  });

  it("reads back what the recorders of several instances counted, per job and minute", async () => {
    const started = Date.now();
    const instances = [1, 2].map(() =>
      createMetricsRecorder({ redis, app, group: "jobs", flushIntervalMs: 0 }),
    );
    for (const metrics of instances) {
      metrics.count("apply-tip", "jobs_published_total");
      metrics.count("apply-tip", "jobs_delivered_total");
      metrics.count("outbox-relay", "jobs_failed_total", 3);
      await metrics.close();
    }
    const rows = await readJobMetrics(redis, { app, sinceMs: started - 60_000 });
    const total = (job: string, counter: "jobs_delivered_total" | "jobs_failed_total") =>
      rows.filter((row) => row.job === job).reduce((sum, row) => sum + row.counters[counter], 0);
    expect(total("apply-tip", "jobs_delivered_total")).toBe(2);
    expect(total("outbox-relay", "jobs_failed_total")).toBe(6);
    expect(total("apply-tip", "jobs_failed_total")).toBe(0);
    for (const row of rows) {
      expect(row.label).toBe(row.job);
      expect(row.minuteStartMs % 60_000).toBe(0);
    }
  });

  it("reads nothing for an app that counted nothing", async () => {
    expect(
      await readJobMetrics(redis, { app: `${app}-empty`, sinceMs: Date.now() - 600_000 }),
    ).toEqual([]);
  });
});
