import { describe, expect, it } from "vitest";
import { dlqEntries, jobsModel } from "./adapt.ts";
import type { ApiOutputs } from "./api-types.ts";

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

describe("jobs adapters", () => {
  it("flattens the per-job series and passes the QStash state through", () => {
    const overview: ApiOutputs["jobs"]["overview"] = {
      minutes: 15,
      qstash: true,
      series: {
        "apply-tip": [{ minute: T0, published: 2, delivered: 1, retried: 0, failed: 1 }],
        "outbox-relay": [
          { minute: T0 + 60_000, published: 0, delivered: 1, retried: 1, failed: 0 },
        ],
      },
      outbox: { pending: 3, oldestAgeSeconds: 42, fanoutPending: 1 },
      schedules: [
        {
          scheduleId: "hotpath-outbox-relay",
          job: "outbox-relay",
          cron: "* * * * *",
          paused: false,
          lastRunAt: T0,
          nextRunAt: T0 + 60_000,
          lastState: "SUCCESS",
        },
      ],
      dlq: { size: 1, more: false },
      qstashError: null,
    };
    const model = jobsModel(overview);
    expect(model.points).toEqual([
      { t: T0, job: "apply-tip", published: 2, delivered: 1, retried: 0, failed: 1 },
      { t: T0 + 60_000, job: "outbox-relay", published: 0, delivered: 1, retried: 1, failed: 0 },
    ]);
    expect(model).toMatchObject({
      qstash: true,
      qstashError: null,
      dlq: { size: 1, more: false },
      outbox: { pending: 3, oldestAgeSeconds: 42, fanoutPending: 1 },
    });
    expect(model.schedules?.[0]?.lastState).toBe("SUCCESS");
  });
  it("orders DLQ messages newest first", () => {
    const message = (dlqId: string, createdAt: number) => ({
      dlqId,
      messageId: `msg_${dlqId}`,
      job: "apply-tip",
      url: "http://127.0.0.1/jobs/qstash",
      payload: '{"job":"apply-tip"}',
      createdAt,
      responseStatus: null,
      responseBody: null,
      maxRetries: 0,
      scheduleId: null,
    });
    const rows = dlqEntries({
      qstash: true,
      messages: [message("old", T0), message("new", T0 + 1)],
      cursor: null,
    });
    expect(rows.map((r) => r.dlqId)).toEqual(["new", "old"]);
    expect(rows[0]).toEqual({
      dlqId: "new",
      messageId: "msg_new",
      job: "apply-tip",
      createdAt: T0 + 1,
      responseStatus: null,
      responseBody: null,
      payload: '{"job":"apply-tip"}',
    });
  });
});
