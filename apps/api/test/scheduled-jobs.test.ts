import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { utcDayBefore } from "../src/jobs/daily-report.ts";
import {
  API_SCHEDULE_IDS,
  CACHE_WARMUP_SCHEDULE_ID,
  DAILY_REPORT_SCHEDULE_ID,
} from "../src/jobs/api-jobs.ts";
import { startLocalQStash, type LocalQStash } from "./helpers/qstash.ts";
import {
  bearer,
  liveStreamOf,
  openTestApi,
  TEST_ADMIN_TOKEN,
  trpcQuery,
  type TestApi,
} from "./helpers/runtime.ts";
import { serveLazily } from "./helpers/serve.ts";
import { waitUntil } from "./helpers/wait.ts";

describe("scheduled jobs: the daily report and the cache warm-up, on fixed-id schedules", () => {
  let qstash: LocalQStash;
  let http: Awaited<ReturnType<typeof serveLazily>>;
  let t: TestApi;
  const others: TestApi[] = [];
  /** Message ids the webhook answered 200. */
  const delivered = new Set<string>();
  const admin = () => t.caller(bearer(TEST_ADMIN_TOKEN)).api;

  beforeAll(async () => {
    qstash = await startLocalQStash("scheduled-jobs-qstash");
    http = await serveLazily();
    t = await openTestApi({ runtime: { qstash: qstash.wiring(http.port) } });
    http.serve(async (request) => {
      const response = await t.handler(request);
      const messageId = request.headers.get("upstash-message-id");
      if (response.status === 200 && messageId) delivered.add(messageId);
      return response;
    });
  });

  afterAll(async () => {
    for (const other of others) await other.close();
    await t?.close();
    await http?.close();
    await qstash?.close();
  });

  it("API starts side by side and one after another leave exactly one schedule per fixed id", async () => {
    // Two more instances start together (scale-out), on the same QStash and webhook.
    others.push(
      ...(await Promise.all([
        openTestApi({ runtime: { qstash: qstash.wiring(http.port) } }),
        openTestApi({ runtime: { qstash: qstash.wiring(http.port) } }),
      ])),
    );
    await t.runtime.jobs!.ensureSchedules();
    const schedules = await qstash.wiring(http.port).client.schedules.list();
    expect(schedules.map((s) => s.scheduleId).sort()).toEqual([...API_SCHEDULE_IDS].sort());
    const byId = Object.fromEntries(schedules.map((s) => [s.scheduleId, s]));
    expect(byId[DAILY_REPORT_SCHEDULE_ID]).toMatchObject({ cron: "10 0 * * *" });
    expect(JSON.parse(byId[DAILY_REPORT_SCHEDULE_ID]!.body ?? "")).toEqual({
      job: "daily-report",
      payload: {},
    });
    expect(byId[CACHE_WARMUP_SCHEDULE_ID]).toMatchObject({ cron: "* * * * *" });
    expect(JSON.parse(byId[CACHE_WARMUP_SCHEDULE_ID]!.body ?? "")).toEqual({
      job: "warm-cache",
      payload: {},
    });
  });

  it("the daily-report job stores tips per creator of a UTC day, readable through jobs.dailyReport", async () => {
    const alice = await liveStreamOf(t.db, "alice");
    const bob = await liveStreamOf(t.db, "bob");
    const [dave] = await t.db.query<{ id: number }>("select id from users where username = 'dave'");
    const tipAt = (streamId: number, amount: string, at: string) =>
      t.db.query(
        "insert into tips (stream_id, from_user_id, amount, created_at) values ($1, $2, $3::numeric, $4::timestamptz)",
        [streamId, dave!.id, amount, at],
      );
    // The day's edges: the first and the last millisecond count, the next day's first does not.
    await tipAt(alice.streamId, "1.25", "2026-01-15T00:00:00.000Z");
    await tipAt(alice.streamId, "2.00", "2026-01-15T23:59:59.999Z");
    await tipAt(bob.streamId, "5.00", "2026-01-15T12:00:00.000Z");
    await tipAt(bob.streamId, "9.99", "2026-01-16T00:00:00.000Z");
    await tipAt(alice.streamId, "9.99", "2026-01-14T23:59:59.999Z");

    expect(await admin().jobs.dailyReport({ day: "2026-01-15" })).toEqual({
      day: "2026-01-15",
      report: null,
    });
    const run = async (day: string) => {
      const { messageId } = await t.runtime.jobs!.publisher.publish("daily-report", { day });
      await waitUntil(() => delivered.has(messageId), { what: "the daily-report delivery" });
    };
    await run("2026-01-15");
    const { report } = await admin().jobs.dailyReport({ day: "2026-01-15" });
    expect(report).toMatchObject({
      day: "2026-01-15",
      tips: 3,
      cents: 825,
      creators: [
        { creatorId: bob.creatorId, username: "bob", tips: 1, cents: 500 },
        { creatorId: alice.creatorId, username: "alice", tips: 2, cents: 325 },
      ],
    });

    // Computing a day again replaces it (a late tip counts once, nothing doubles).
    await tipAt(bob.streamId, "0.50", "2026-01-15T18:00:00.000Z");
    await run("2026-01-15");
    const again = (await admin().jobs.dailyReport({ day: "2026-01-15" })).report;
    expect(again).toMatchObject({ tips: 4, cents: 875 });
    expect(again?.creators[0]).toMatchObject({ username: "bob", tips: 2, cents: 550 });
  });

  it("jobs.dailyReport answers 400 naming day for a malformed day, 403 to a user, 401 without a token", async () => {
    for (const day of ["2026-1-5", "2026-02-30", "yesterday"]) {
      const bad = await t.handler(trpcQuery("jobs.dailyReport", { day }, bearer(TEST_ADMIN_TOKEN)));
      expect(bad.status, day).toBe(400);
      expect(await bad.text()).toContain("day");
    }
    const user = await t.login("dave");
    const forbidden = await t.handler(
      trpcQuery("jobs.dailyReport", { day: "2026-01-15" }, bearer(user)),
    );
    expect(forbidden.status).toBe(403);
    expect((await t.handler(trpcQuery("jobs.dailyReport", { day: "2026-01-15" }))).status).toBe(
      401,
    );
  });

  it("the scheduled payload computes the last complete UTC day by the job's clock", () => {
    expect(utcDayBefore(Date.parse("2026-03-01T00:10:00.000Z"))).toBe("2026-02-28");
    expect(utcDayBefore(Date.parse("2026-01-01T00:00:00.000Z"))).toBe("2025-12-31");
    expect(utcDayBefore(Date.parse("2026-01-01T23:59:59.999Z"))).toBe("2025-12-31");
  });

  it("the warm-cache job fills the status and user entries of the hottest creators", async () => {
    const alice = await liveStreamOf(t.db, "alice");
    const hottest = await t.runtime.deps.projections.top("creators", "daily", 10);
    expect(hottest.map((e) => Number(e.member))).toContain(alice.creatorId);
    await t.runtime.deps.cache.invalidate("status", ["alice"]);
    await t.runtime.deps.cache.invalidate("user", [String(alice.creatorId)]);

    const { messageId } = await t.runtime.jobs!.publisher.publish("warm-cache", {});
    await waitUntil(() => delivered.has(messageId), { what: "the warm-cache delivery" });
    expect(
      t.logger.lines.find((line) => line.msg === "cache warmed" && Number(line.loaded) >= 2),
    ).toBeDefined();

    // The first viewer after the warm-up is served from the cache.
    const status = t.caller();
    await status.api.streams.status({ username: "alice" });
    expect(status.resHeaders.get("X-Cache")).toBe("hit");
    const user = t.caller();
    await user.api.users.byId({ id: alice.creatorId });
    expect(user.resHeaders.get("X-Cache")).toBe("hit");
  });
});
