import { DEV_CREDENTIALS } from "@hotpath/qstash-server";
import { freePort } from "@hotpath/testing";
import { Client, Receiver } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  JOBS_WEBHOOK_PATH,
  OUTBOX_RELAY_SCHEDULE_ID,
  RECONCILE_SCHEDULE_ID,
  type ApiQStash,
} from "../src/jobs/api-jobs.ts";
import { jobOfBody, lastStateOf } from "../src/jobs/jobs-admin.ts";
import {
  bearer,
  openTestApi,
  TEST_ADMIN_TOKEN,
  trpcMutation,
  trpcQuery,
  type TestApi,
} from "./helpers/runtime.ts";
import { startLocalQStash, type LocalQStash } from "./helpers/qstash.ts";
import { serveLazily } from "./helpers/serve.ts";
import { waitUntil } from "./helpers/wait.ts";

const receiver = () =>
  new Receiver({
    currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
    nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
  });

describe("the Jobs view's procedures against the local QStash server", () => {
  let qstash: LocalQStash;
  let http: Awaited<ReturnType<typeof serveLazily>>;
  let t: TestApi;
  /** Tip ids whose apply-tip deliveries the webhook refuses (the API "down" for those). */
  const refused = new Set<number>();
  /** Message ids the webhook answered 200. */
  const delivered = new Set<string>();
  const admin = () => t.caller(bearer(TEST_ADMIN_TOKEN)).api;

  beforeAll(async () => {
    qstash = await startLocalQStash("jobs-admin-qstash");
    http = await serveLazily();
    t = await openTestApi({ runtime: { qstash: qstash.wiring(http.port) } });
    http.serve(async (request) => {
      const body = (await request
        .clone()
        .json()
        .catch(() => null)) as {
        job?: string;
        payload?: { tipId?: number };
      } | null;
      if (body?.job === "apply-tip" && refused.has(body.payload?.tipId ?? -1)) {
        return new Response("unavailable", { status: 503 });
      }
      const response = await t.handler(request);
      const messageId = request.headers.get("upstash-message-id");
      if (response.status === 200 && messageId) delivered.add(messageId);
      return response;
    });
  });

  afterAll(async () => {
    await t?.close();
    await http?.close();
    await qstash?.close();
  });

  /** Publishes an apply-tip the webhook refuses (no retries) and waits for it in the DLQ. */
  async function failIntoDlq(tipId: number) {
    refused.add(tipId);
    const { messageId } = await t.runtime.jobs!.publisher.publish(
      "apply-tip",
      { tipId },
      { retries: 0 },
    );
    let entry:
      | Awaited<ReturnType<ReturnType<typeof admin>["jobs"]["dlq"]["list"]>>["messages"][number]
      | undefined;
    await waitUntil(
      async () => {
        const page = await admin().jobs.dlq.list({ count: 100 });
        entry = page.messages.find((m) => m.messageId === messageId);
        return entry !== undefined;
      },
      { timeoutMs: 30_000, what: `message ${messageId} in the DLQ` },
    );
    return entry!;
  }

  it("shows the fixed schedules with their job, cron and next run, an empty DLQ and no pending outbox rows", async () => {
    const overview = await admin().jobs.overview({ minutes: 15 });
    expect(overview.qstash).toBe(true);
    expect(overview.qstashError).toBeNull();
    expect(overview.dlq).toEqual({ size: 0, more: false });
    expect(overview.outbox).toEqual({ pending: 0, oldestAgeSeconds: null, fanoutPending: 0 });
    const byId = Object.fromEntries((overview.schedules ?? []).map((s) => [s.scheduleId, s]));
    expect(byId[OUTBOX_RELAY_SCHEDULE_ID]).toMatchObject({
      job: "outbox-relay",
      cron: "* * * * *",
      paused: false,
    });
    expect(byId[RECONCILE_SCHEDULE_ID]).toMatchObject({
      job: "reconcile-leaderboards",
      cron: "0 3 * * *",
      paused: false,
    });
    // An every-minute schedule next fires on a whole minute.
    const next = byId[OUTBOX_RELAY_SCHEDULE_ID]?.nextRunAt;
    expect(typeof next).toBe("number");
    expect((next ?? 1) % 60_000).toBe(0);
  });

  it("counts a published and delivered job in the per-minute series", async () => {
    const rebuild = await admin().jobs.rebuild();
    expect(rebuild.enqueued).toBe(true);
    const messageId = rebuild.enqueued ? rebuild.messageId : "";
    await waitUntil(() => delivered.has(messageId), { what: "the rebuild job's delivery" });
    await waitUntil(
      async () => {
        const { series } = await admin().jobs.overview({ minutes: 15 });
        const points = series["reconcile-leaderboards"] ?? [];
        const sum = (key: "published" | "delivered") =>
          points.reduce((total, point) => total + point[key], 0);
        return sum("published") >= 1 && sum("delivered") >= 1;
      },
      { what: "the job counters (flushed every 100 ms)" },
    );
  });

  it("lists DLQ messages page by page, retries one back to delivery and deletes another", async () => {
    const first = await failIntoDlq(900_001);
    const second = await failIntoDlq(900_002);
    expect(first).toMatchObject({
      job: "apply-tip",
      responseStatus: 503,
      responseBody: "unavailable",
    });
    expect(first.payload).toContain('"tipId":900001');
    expect((await admin().jobs.overview({ minutes: 15 })).dlq).toEqual({ size: 2, more: false });

    const page1 = await admin().jobs.dlq.list({ count: 1 });
    expect(page1.messages).toHaveLength(1);
    expect(page1.cursor).not.toBeNull();
    const page2 = await admin().jobs.dlq.list({ count: 1, cursor: page1.cursor! });
    expect(page2.messages).toHaveLength(1);
    expect(new Set([page1.messages[0]?.dlqId, page2.messages[0]?.dlqId])).toEqual(
      new Set([first.dlqId, second.dlqId]),
    );

    // The API is back for the first tip: a retry delivers it under a new message id.
    refused.delete(900_001);
    const retried = await admin().jobs.dlq.retry({ dlqId: first.dlqId });
    expect(retried.dlqId).toBe(first.dlqId);
    expect(retried.messageId).not.toBe(first.messageId);
    await waitUntil(() => delivered.has(retried.messageId), { what: "the retried delivery" });
    const afterRetry = await admin().jobs.dlq.list({ count: 100 });
    expect(afterRetry.messages.map((m) => m.dlqId)).toEqual([second.dlqId]);

    expect(await admin().jobs.dlq.delete({ dlqId: second.dlqId })).toEqual({
      dlqId: second.dlqId,
      deleted: true,
    });
    expect((await admin().jobs.dlq.list({ count: 100 })).messages).toEqual([]);
    expect((await admin().jobs.overview({ minutes: 15 })).dlq).toEqual({ size: 0, more: false });

    // Gone: both actions answer 404 naming the message.
    const deleteAgain = await admin()
      .jobs.dlq.delete({ dlqId: second.dlqId })
      .catch((error: unknown) => error as { code: string; message: string });
    expect(deleteAgain).toMatchObject({ code: "NOT_FOUND" });
    expect((deleteAgain as { message: string }).message).toContain(second.dlqId);
    await expect(admin().jobs.dlq.retry({ dlqId: first.dlqId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("answers 400 naming dlqId for a malformed id, 403 to a user token and 401 without a token", async () => {
    const bad = await t.handler(
      trpcMutation("jobs.dlq.retry", { dlqId: "../etc" }, bearer(TEST_ADMIN_TOKEN)),
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("dlqId");
    const empty = await t.handler(
      trpcMutation("jobs.dlq.delete", { dlqId: "" }, bearer(TEST_ADMIN_TOKEN)),
    );
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain("dlqId");

    const user = await t.login("carol");
    for (const request of [
      trpcMutation("jobs.dlq.retry", { dlqId: "dlq_x" }, bearer(user)),
      trpcMutation("jobs.dlq.delete", { dlqId: "dlq_x" }, bearer(user)),
      trpcQuery("jobs.dlq.list", {}, bearer(user)),
      trpcQuery("jobs.overview", {}, bearer(user)),
    ]) {
      expect((await t.handler(request)).status, request.url).toBe(403);
    }
    const anonymous = await t.handler(trpcQuery("jobs.overview", {}));
    expect(anonymous.status).toBe(401);
  });
});

describe("the Jobs view's procedures without QStash, or with QStash down", () => {
  let plain: TestApi;
  let down: TestApi;

  beforeAll(async () => {
    plain = await openTestApi();
    const deadPort = await freePort();
    const qstash: ApiQStash = {
      client: new Client({
        baseUrl: `http://127.0.0.1:${deadPort}`,
        token: DEV_CREDENTIALS.token,
        retry: false,
      }),
      receiver: receiver(),
      webhookUrl: `http://127.0.0.1:${deadPort}${JOBS_WEBHOOK_PATH}`,
    };
    down = await openTestApi({ runtime: { qstash } });
  });
  afterAll(async () => {
    await plain?.close();
    await down?.close();
  });

  it("says qstash: false and still reports the outbox when QStash is not configured", async () => {
    const api = plain.caller(bearer(TEST_ADMIN_TOKEN)).api;
    expect(await api.jobs.overview({ minutes: 5 })).toMatchObject({
      qstash: false,
      schedules: null,
      dlq: null,
      qstashError: null,
      outbox: { pending: 0, oldestAgeSeconds: null },
    });
    expect(await api.jobs.dlq.list({})).toEqual({ qstash: false, messages: [], cursor: null });
    const retry = await plain.handler(
      trpcMutation("jobs.dlq.retry", { dlqId: "dlq_x" }, bearer(TEST_ADMIN_TOKEN)),
    );
    expect(retry.status).toBe(412);
    expect(await retry.text()).toContain("QStash is not configured");
  });

  it("serves the rest of the overview with qstashError when QStash does not answer, and 503 for DLQ actions", async () => {
    const api = down.caller(bearer(TEST_ADMIN_TOKEN)).api;
    const overview = await api.jobs.overview({ minutes: 5 });
    expect(overview).toMatchObject({ qstash: true, schedules: null, dlq: null });
    expect(overview.qstashError).toMatch(/QStash is unreachable/);
    expect(overview.outbox.pending).toBe(0);
    const retry = await down.handler(
      trpcMutation("jobs.dlq.retry", { dlqId: "dlq_x" }, bearer(TEST_ADMIN_TOKEN)),
    );
    expect(retry.status).toBe(503);
  });
});

describe("schedule and DLQ views", () => {
  it("names the job of an API envelope body and nothing else", () => {
    expect(jobOfBody('{"job":"apply-tip","payload":{"tipId":1}}')).toBe("apply-tip");
    expect(jobOfBody('{"hello":"world"}')).toBeNull();
    expect(jobOfBody("not json")).toBeNull();
    expect(jobOfBody(undefined)).toBeNull();
  });

  it("sums a firing's message states: any failure wins, then a running one", () => {
    expect(lastStateOf(undefined)).toBeNull();
    expect(lastStateOf({})).toBeNull();
    expect(lastStateOf({ a: "SUCCESS", b: "SUCCESS" })).toBe("SUCCESS");
    expect(lastStateOf({ a: "SUCCESS", b: "IN_PROGRESS" })).toBe("IN_PROGRESS");
    expect(lastStateOf({ a: "IN_PROGRESS", b: "FAIL" })).toBe("FAIL");
  });
});
