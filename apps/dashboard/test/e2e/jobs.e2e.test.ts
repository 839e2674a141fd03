import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHotpathClient } from "@hotpath/api/client";
import { createJobPublisher, defineJob } from "@hotpath/jobs";
import {
  DEV_CREDENTIALS,
  startQStashServer,
  type RunningQStashServer,
} from "@hotpath/qstash-server";
import { deletePrefix, freePort, openTestRedis, uniquePrefix } from "@hotpath/testing";
import { Client } from "@upstash/qstash";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { runTraffic } from "../../scripts/traffic.ts";
import { startApiProcess, testApiEnv, type ApiProcess } from "./harness/api-process.ts";
import { launchChromium, type BrowserHandle } from "./harness/browser.ts";
import { buildAndPreview, type DashboardServer } from "./harness/dashboard-server.ts";

const artifacts = join(import.meta.dirname, "..", "..", "test-artifacts");
const ADMIN_TOKEN = `e2e-jobs-${Math.random().toString(36).slice(2)}-token`;
const app = uniquePrefix("dashjobs").replace(/[^A-Za-z0-9_.-]/g, "_");
const qstashPrefix = uniquePrefix("dashjobs-qstash");
/** A tip id no tip has: its apply-tip job succeeds ("missing") once the API answers. */
const UNKNOWN_TIP_ID = 987_654_321;

let qstash: RunningQStashServer;
let api: ApiProcess;
let dashboard: DashboardServer;
let browser: BrowserHandle;
let page: Page;
let outDir: string;
let dataDir: string;
/** The message that dead-lettered while the API was not running yet. */
let deadMessageId: string;

const admin = () =>
  createHotpathClient({
    url: `${api.url}/trpc`,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });

/** Delivered count of one job over the last 15 minutes, as the API reports it. */
async function deliveredOf(job: string): Promise<number> {
  const { series } = await admin().jobs.overview.query({ minutes: 15 });
  return (series[job] ?? []).reduce((sum, point) => sum + point.delivered, 0);
}

/** Polls `check` until it holds (every 250 ms, up to `timeoutMs`). */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
  browser = await launchChromium({ locale: "en-US", colorScheme: "light" });
  dataDir = await mkdtemp(join(tmpdir(), "hotpath-dashjobs-api-"));
  outDir = await mkdtemp(join(tmpdir(), "hotpath-dashjobs-dist-"));
  qstash = await startQStashServer({
    redisUrl: inject("redisUrl"),
    port: 0,
    prefix: qstashPrefix,
  });
  const apiPort = await freePort();
  const webhookUrl = `http://127.0.0.1:${apiPort}/jobs/qstash`;

  // Before the API runs: an apply-tip job with no retries meets a closed port and dead-letters.
  const client = new Client({ baseUrl: qstash.url, token: DEV_CREDENTIALS.token });
  const publisher = createJobPublisher({
    client,
    url: webhookUrl,
    jobs: [defineJob("apply-tip", z.object({ tipId: z.number().int() }), () => undefined)],
  });
  ({ messageId: deadMessageId } = await publisher.publish(
    "apply-tip",
    { tipId: UNKNOWN_TIP_ID },
    { retries: 0 },
  ));
  await waitFor("the apply-tip message in the DLQ", async () => {
    const { messages } = await client.dlq.listMessages();
    return messages.some((m) => m.messageId === deadMessageId);
  });

  api = await startApiProcess({
    port: apiPort,
    readyTimeoutMs: 150_000,
    env: {
      ...testApiEnv({ redisUrl: inject("redisUrl"), app, adminToken: ADMIN_TOKEN, dataDir }),
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: DEV_CREDENTIALS.token,
      QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
      PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
    },
  });
  dashboard = await buildAndPreview({ apiUrl: api.url, port: await freePort(), outDir });
  page = await browser.context.newPage();
  // A shared 2-core machine under load: QStash, the API and a production build in one hook.
}, 360_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await api?.stop();
  await qstash?.close();
  const redis = openTestRedis("tcp");
  await deletePrefix(redis, `${app}:`)
    .then(() => deletePrefix(redis, qstashPrefix))
    .finally(() => redis.close());
  if (outDir) await rm(outDir, { recursive: true, force: true });
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("Jobs view in Chromium against the API and the local QStash server", () => {
  it("shows a delivered job and a DLQ entry, and its Retry button empties the DLQ", async () => {
    // A job delivered through QStash: the rebuild the admin procedure enqueues.
    const rebuild = await admin().jobs.rebuild.mutate();
    expect(rebuild.enqueued).toBe(true);
    await waitFor("the rebuild job's delivery", async () => {
      return (await deliveredOf("reconcile-leaderboards")) >= 1;
    });
    // Nothing has delivered an apply-tip yet: its only message is dead.
    expect(await deliveredOf("apply-tip")).toBe(0);

    await page.goto(dashboard.url);
    await page.getByLabel("Token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Open dashboard" }).click();
    const jobs = page.getByTestId("jobs");
    await jobs.getByTestId("jobs-delivered-value").waitFor({ timeout: 30_000 });

    const number = async (id: string) =>
      Number((await jobs.getByTestId(id).textContent())?.replace(/\D/g, ""));
    await expect.poll(() => number("jobs-delivered-value"), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => number("jobs-published-value")).toBeGreaterThan(0);
    const dead = jobs.locator(`[data-testid="dlq-table"] tr`, { hasText: deadMessageId });
    await dead.waitFor({ timeout: 30_000 });
    expect(await dead.textContent()).toContain("No answer");
    expect(await dead.textContent()).toContain(`"tipId":${UNKNOWN_TIP_ID}`);
    expect(await jobs.getByTestId("jobs-dlq-value").textContent()).toBe("1");
    expect(
      await jobs.getByTestId("schedule-state-hotpath-outbox-relay").count(),
      "the API's fixed schedules are listed",
    ).toBe(1);
    await page.screenshot({ path: join(artifacts, "jobs-dlq.png"), fullPage: true });

    // Retry asks for confirmation first, then sends the message back to delivery.
    await dead.getByRole("button", { name: `Retry apply-tip ${deadMessageId}` }).click();
    expect(await jobs.getByTestId("jobs-dlq-value").textContent()).toBe("1");
    const confirm = dead.getByRole("alertdialog", {
      name: `Send apply-tip ${deadMessageId} back to delivery?`,
    });
    await confirm.getByRole("button", { name: "Confirm" }).click();

    await dead.waitFor({ state: "detached", timeout: 30_000 });
    await expect
      .poll(() => jobs.getByTestId("jobs-dlq-value").textContent(), { timeout: 30_000 })
      .toBe("0");
    expect(await jobs.getByTestId("dlq-table").textContent()).toContain("Empty");
    // The retried message reached the API this time: one apply-tip delivered, the DLQ empty.
    await waitFor(
      "the retried apply-tip delivery",
      async () => (await deliveredOf("apply-tip")) === 1,
    );
    expect((await admin().jobs.dlq.list.query({ count: 100 })).messages).toEqual([]);
    // And the view shows it for that job.
    await jobs.getByLabel("Job").selectOption("apply-tip");
    await expect.poll(() => number("jobs-delivered-value"), { timeout: 30_000 }).toBe(1);
    await page.screenshot({ path: join(artifacts, "jobs-retried.png"), fullPage: true });
  });

  it("moves with the demo traffic: tips fan out to followers as notify-follower jobs", async () => {
    const traffic = await runTraffic({
      apiUrl: api.url,
      durationMs: 8000,
      maxRequests: 400,
      pauseMs: 250,
      // Logins within the AUTH policy's 5 per minute per IP.
      viewers: ["dave", "erin"].map((username) => ({ username, password: "hotpath-demo" })),
    });
    expect(traffic.follows, JSON.stringify(traffic)).toBeGreaterThan(0);
    expect(traffic.tipsSent).toBeGreaterThan(0);
    await waitFor("notify-follower jobs delivered", async () => {
      return (await deliveredOf("notify-follower")) > 0;
    });
    const jobs = page.getByTestId("jobs");
    await jobs.getByLabel("Job").selectOption("notify-follower");
    await expect
      .poll(
        async () =>
          Number(
            (await jobs.getByTestId("jobs-delivered-value").textContent())?.replace(/\D/g, ""),
          ),
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);
    await page.screenshot({ path: join(artifacts, "jobs-traffic.png"), fullPage: true });
  });
});
