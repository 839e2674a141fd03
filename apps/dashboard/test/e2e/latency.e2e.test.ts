import { uniquePrefix } from "@hotpath/testing";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium, type BrowserHandle } from "./harness/browser.ts";
import { startDashboardStack, type DashboardStack } from "./harness/stack.ts";

const ADMIN_TOKEN = `e2e-admin-${Math.random().toString(36).slice(2)}-token`;
const app = uniquePrefix("dash-latency").replace(/[^A-Za-z0-9_.-]/g, "_");
/** The procedure made slow on purpose (the API's test-only delay, refused in production). */
const SLOW = "users.list";
const DELAY_MS = 400;

let browser: BrowserHandle;
let stack: DashboardStack;
let page: Page;

async function call(path: string, input: unknown): Promise<void> {
  const response = await fetch(
    `${stack.api.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`,
  );
  expect(response.status, path).toBe(200);
  await response.body?.cancel();
}

beforeAll(async () => {
  browser = await launchChromium({ locale: "en-US" });
  stack = await startDashboardStack({
    browser,
    redisUrl: inject("redisUrl"),
    app,
    adminToken: ADMIN_TOKEN,
    env: { TEST_PROCEDURE_DELAY: `${SLOW}=${DELAY_MS}` },
  });
  page = stack.page;
});

afterAll(async () => {
  await stack?.close();
  await browser?.close();
});

describe("latency view in Chromium against the real API", () => {
  it("shows the procedure made slow on purpose as the slowest, with its p50/p99 and Redis vs database share", async () => {
    // Calls of the slow procedure and of fast ones (cached reads).
    for (let i = 0; i < 4; i++) {
      await call(SLOW, { page: 1 });
      await call("users.byId", { id: 1 });
      await call("streams.status", { username: "alice" });
    }
    await page.goto(stack.dashboard.url);
    await page.getByLabel("Token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Open dashboard" }).click();

    // The API itself ranks it first; the page shows the same ranking.
    await expect
      .poll(
        async () =>
          (await stack.adminClient().metrics.latency.query({ minutes: 15 })).procedures[0]
            ?.procedure,
        { timeout: 60_000, interval: 1000 },
      )
      .toBe(SLOW);
    const rows = page.locator('[data-testid="latency-table"] tbody tr');
    await expect
      .poll(() => rows.first().getAttribute("data-procedure"), { timeout: 60_000 })
      .toBe(SLOW);
    expect(await page.getByTestId("latency-selected").textContent()).toBe(SLOW);
    expect(await rows.count()).toBeGreaterThanOrEqual(3);

    const report = await stack.adminClient().metrics.latency.query({ minutes: 15 });
    const slow = report.procedures.find((p) => p.procedure === SLOW);
    expect(slow?.p50).toBeGreaterThanOrEqual(DELAY_MS * 0.9);
    // Its p50 as the page shows it is at least the delay (the rest of the time is neither Redis nor DB).
    const p50Text = (await rows.first().locator("td").nth(1).textContent()) ?? "";
    expect(Number(p50Text.replace(/[^\d.]/g, ""))).toBeGreaterThanOrEqual(DELAY_MS * 0.9);
    const share = (await page.getByTestId("latency-share").textContent()) ?? "";
    expect(share).toMatch(/^Redis \d+\.\d% · Database \d+\.\d% · Other \d+\.\d%$/);
    const other = Number(/Other (\d+\.\d)%/.exec(share)?.[1]);
    expect(other).toBeGreaterThan(50);
  });
});
