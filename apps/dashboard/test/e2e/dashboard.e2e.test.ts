import { copyFile, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createHotpathClient } from "@hotpath/api/client";
import { uniquePrefix } from "@hotpath/testing";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { formatBytes, formatCount, formatMoney, formatRatio } from "../../src/format.ts";
import { runTraffic } from "../../scripts/traffic.ts";
import type { ApiProcess } from "./harness/api-process.ts";
import { launchChromium, type BrowserHandle } from "./harness/browser.ts";
import { startDashboardStack, type DashboardStack } from "./harness/stack.ts";

const appDir = join(import.meta.dirname, "..", "..");
const artifacts = join(appDir, "test-artifacts");
const LOCALE = "en-US";
const ADMIN_TOKEN = `e2e-admin-${Math.random().toString(36).slice(2)}-token`;
const app = uniquePrefix("dash").replace(/[^A-Za-z0-9_.-]/g, "_");

let stack: DashboardStack;
let api: ApiProcess;
let browser: BrowserHandle;
let page: Page;
let outDir: string;

const adminClient = () => stack.adminClient();

/** The API's own totals, computed here from its raw counters (not with the dashboard's code). */
async function apiTotals() {
  const overview = await adminClient().metrics.overview.query({ minutes: 15 });
  let served = 0;
  let lookups = 0;
  for (const points of Object.values(overview.cache)) {
    for (const { counters: c } of points) {
      const hits =
        (c.cache_hits_total ?? 0) +
        (c.cache_negative_hits_total ?? 0) +
        (c.cache_stale_hits_total ?? 0);
      served += hits;
      lookups += hits + (c.cache_misses_total ?? 0);
    }
  }
  let blocked = 0;
  for (const points of Object.values(overview.rateLimit))
    for (const { counters } of points) blocked += counters.blocked ?? 0;
  return { hitRatio: lookups > 0 ? served / lookups : null, blocked };
}

async function screenshot(name: string): Promise<string> {
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Set when Chromium is missing: every test then FAILS with this message (never a silent skip). */
let missingBrowser: Error | undefined;

function requireBrowser(): void {
  if (missingBrowser) throw missingBrowser;
}

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
  try {
    browser = await launchChromium({ locale: LOCALE, colorScheme: "light" });
  } catch (error) {
    missingBrowser = error instanceof Error ? error : new Error(String(error));
    return;
  }
  stack = await startDashboardStack({
    browser,
    redisUrl: inject("redisUrl"),
    app,
    adminToken: ADMIN_TOKEN,
  });
  ({ api, page, outDir } = stack);
});

afterAll(async () => {
  await stack?.close();
  await browser?.close();
});

describe("dashboard in Chromium against the real stack", () => {
  it("ships a bundle with no server code", async () => {
    requireBrowser();
    const assets = join(outDir, "assets");
    const files = (await readdir(assets)).filter((f) => f.endsWith(".js"));
    expect(files.length).toBeGreaterThan(0);
    const code = (await Promise.all(files.map((f) => readFile(join(assets, f), "utf8")))).join(
      "\n",
    );
    for (const marker of [
      "pglite",
      "createContextInner",
      "insert into tips",
      "ioredis",
      "pbkdf2",
      '"node:',
      "appRouter",
    ]) {
      expect(code.includes(marker), `bundle contains "${marker}"`).toBe(false);
    }
    // The page is served under /dashboard/ (the production base path).
    expect(await readFile(join(outDir, "index.html"), "utf8")).toContain('src="/dashboard/assets/');
  });

  it("asks for the admin token, rejects a wrong one with a clear 401 message, then shows what the API reports", async () => {
    requireBrowser();
    const traffic = await runTraffic({
      apiUrl: api.url,
      durationMs: 8000,
      maxRequests: 600,
      burstEveryMs: 60_000,
      duplicateEveryMs: 60_000,
      pauseMs: 250,
      // Two logins here and one for the tip below: within the AUTH policy's 5 per minute per IP.
      viewers: ["dave", "erin"].map((username) => ({ username, password: "hotpath-demo" })),
    });
    expect(traffic.rateLimited, JSON.stringify(traffic)).toBeGreaterThan(0);
    expect(traffic.cacheReads).toBeGreaterThan(0);

    await page.goto(stack.dashboard.url);
    expect(page.url()).not.toContain("token");
    await page.getByLabel("Token").fill("definitely-not-the-admin-token");
    await page.getByRole("button", { name: "Open dashboard" }).click();
    await expect
      .poll(() => page.getByTestId("token-message").textContent(), { timeout: 30_000 })
      .toMatch(/rejected the admin token \(40[13]: Admin token required/);
    expect(page.url()).not.toContain("definitely-not");

    await page.getByLabel("Token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Open dashboard" }).click();
    await page.getByTestId("card-hit-ratio-value").waitFor({ timeout: 30_000 });
    expect(page.url()).not.toContain(ADMIN_TOKEN);

    // Shown == reported: read the API and the page until both agree (the page polls every 5 s).
    const compare = async () => {
      const totals = await apiTotals();
      return {
        hitRatio:
          (await page.getByTestId("card-hit-ratio-value").textContent()) ===
          formatRatio(totals.hitRatio, LOCALE),
        blocked:
          (await page.getByTestId("card-blocked-detail").textContent()) ===
          `${formatCount(totals.blocked, LOCALE)} blocked`,
        nonZero: totals.blocked > 0 && totals.hitRatio !== null,
      };
    };
    await expect
      .poll(compare, { timeout: 60_000, interval: 2000 })
      .toEqual({ hitRatio: true, blocked: true, nonZero: true });
    const totals = await apiTotals();
    process.stderr.write(
      `[dashboard e2e] API: hit ratio ${formatRatio(totals.hitRatio, LOCALE)}, blocked ${totals.blocked}\n`,
    );
    await expect
      .poll(() => page.getByTestId("updated-ago").textContent())
      .toMatch(/Updated (now|\d+ seconds? ago)/);
    await expect
      .poll(() => page.locator('[data-testid="top-blocked"] tbody th').count())
      .toBeGreaterThan(0);
    // The burst came from a logged-in viewer: its hashed identifier is shown with the user.
    await expect
      .poll(
        () =>
          page
            .locator('[data-testid="top-blocked"] [data-testid="identifier-owner"]')
            .allTextContents(),
        { timeout: 30_000 },
      )
      .toContainEqual(expect.stringMatching(/^(dave|erin) \(user \d+\)$/));

    // Memory per area is what the API measured with MEMORY USAGE (TCP allows it), not an estimate.
    // The API caches the sample 30 s: compare with a fresh read until both show one sample.
    const apiCacheMemory = async () => {
      const distribution = await adminClient().metrics.keyDistribution.query({});
      if (!distribution.memory.available) return `not available: ${distribution.memory.reason}`;
      const bytes = distribution.memory.areas.cache?.estimatedBytes ?? 0;
      return bytes > 0 ? formatBytes(bytes, LOCALE) : "nothing measured";
    };
    await expect
      .poll(
        async () => {
          const shown = await page.getByTestId("memory-cache").textContent();
          return shown === (await apiCacheMemory()) ? "same" : shown;
        },
        { timeout: 60_000, interval: 2000 },
      )
      .toBe("same");
    expect(await apiCacheMemory()).toMatch(/^[\d.,]+ (byte|kB|MB)$/);

    // Keyboard: from the top of the page, Tab reaches the range radios, the series selects, both
    // charts (Recharts' accessibility layer), the leaderboard tabs and the buttons; every form
    // control reached has an accessible name, as the browser's accessibility tree computes it
    // (Playwright's aria snapshot: `- combobox "Policy"`), whatever the markup of its label.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const reached = new Set<string>();
    const unnamed: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return { text: "body", control: false };
        if (el.getAttribute("role") === "tab")
          return { text: `tab:${el.textContent}`, control: false };
        const control = el instanceof HTMLInputElement || el instanceof HTMLSelectElement;
        if (el instanceof HTMLInputElement) return { text: `input:${el.name}`, control };
        if (el instanceof HTMLSelectElement) {
          const section = el.closest("section")?.dataset.testid ?? "";
          return { text: `select:${section}`, control };
        }
        if (el.closest(".recharts-wrapper"))
          return { text: `chart:${el.closest("section")?.dataset.testid ?? ""}`, control };
        return {
          text: `${el.tagName.toLowerCase()}:${el.textContent?.trim().slice(0, 40) ?? ""}`,
          control,
        };
      });
      let text = focused.text;
      if (focused.control) {
        const snapshot = await page.locator(":focus").ariaSnapshot();
        const name = /^- [\w-]+ "(.*?)"/.exec(snapshot)?.[1] ?? "";
        if (name === "") unnamed.push(`${text} ${snapshot.split("\n")[0] ?? ""}`);
        if (text.startsWith("select:")) text = `select:${name}@${text.slice("select:".length)}`;
      }
      reached.add(text);
    }
    process.stderr.write(`[dashboard e2e] reached with Tab: ${[...reached].join(", ")}\n`);
    expect(unnamed).toEqual([]);
    expect([...reached]).toEqual(
      expect.arrayContaining([
        "input:range",
        "select:Namespace@cache",
        "select:Policy@ratelimit",
        "select:Policy@admin",
        "chart:cache",
        "chart:ratelimit",
        "tab:Daily",
        "button:Forget token",
      ]),
    );

    // Range change with the keyboard: the previous numbers stay until the new ones arrive (no
    // blank "…" cards, no "Loading…" panels), then the page settles on the 1 h window.
    await page.locator('input[name="range"][value="15m"]').focus();
    await page.keyboard.press("ArrowRight");
    expect(await page.locator('input[name="range"][value="1h"]').isChecked()).toBe(true);
    for (let i = 0; i < 10; i++) {
      expect(await page.getByTestId("card-hit-ratio-value").textContent()).toMatch(/%$/);
      expect(await page.getByText("Loading…").count()).toBe(0);
      await page.waitForTimeout(200);
    }
    await page.locator('input[name="range"][value="1h"]').focus();
    await page.keyboard.press("ArrowLeft");
    expect(await page.locator('input[name="range"][value="15m"]').isChecked()).toBe(true);

    await screenshot("dashboard-light");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot("dashboard-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("shows a tip made during the test on the leaderboard and in the feed", async () => {
    requireBrowser();
    const anonymous = createHotpathClient({ url: `${api.url}/trpc` });
    const before = await anonymous.leaderboard.top.query({
      board: "creators",
      period: "daily",
      n: 10,
    });
    // Tip the creator ranked last among live ones, enough to take the lead.
    const candidates = ["alice", "bob"];
    const statuses = await Promise.all(
      candidates.map((username) => anonymous.streams.status.query({ username })),
    );
    const live = statuses.filter((s) => s.live && s.stream);
    const target =
      live.sort(
        (a, b) =>
          (before.entries.find((e) => e.userId === a.creator.id)?.cents ?? 0) -
          (before.entries.find((e) => e.userId === b.creator.id)?.cents ?? 0),
      )[0] ?? live[0];
    if (!target?.stream) throw new Error("no live stream to tip");
    const leaderCents = before.entries[0]?.cents ?? 0;
    const amount = Math.ceil(leaderCents / 100) + 1234.56;

    const { token } = await anonymous.sessions.login.mutate({
      username: "carol",
      password: "hotpath-demo",
    });
    const carol = createHotpathClient({
      url: `${api.url}/trpc`,
      headers: { authorization: `Bearer ${token}` },
    });
    const result = await carol.tips.quick.mutate(
      { streamId: target.stream.id, amount },
      { context: { idempotencyKey: `e2e-${app}` } },
    );
    expect(result.created).toBe(true);

    const after = await anonymous.leaderboard.top.query({
      board: "creators",
      period: "daily",
      n: 10,
    });
    const entry = after.entries.find((e) => e.userId === target.creator.id);
    expect(entry?.rank).toBe(1);

    const feedItem = page.locator(`[data-feed-id="tip-${result.tip.id}"]`);
    await feedItem.waitFor({ timeout: 30_000 });
    expect(await feedItem.textContent()).toContain(formatMoney(amount, "USD", LOCALE));

    const row = page.locator(
      `[data-testid="leaderboard-table"] tr[data-member="${target.creator.id}"]`,
    );
    await expect
      .poll(
        async () => (await row.count()) > 0 && (await row.locator("td").first().textContent()),
        { timeout: 30_000 },
      )
      .toBe("1");
    // Shown == reported, against a fresh read: a tip of the traffic still in the outbox may land
    // between the read above and the page's next poll.
    await expect
      .poll(
        async () => {
          const now = await anonymous.leaderboard.top.query({
            board: "creators",
            period: "daily",
            n: 10,
          });
          const cents = now.entries.find((e) => e.userId === target.creator.id)?.cents ?? 0;
          const shown = (await row.textContent()) ?? "";
          return shown.includes(formatMoney(cents / 100, "USD", LOCALE)) || shown;
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe(true);
    const wasRank = before.entries.find((e) => e.userId === target.creator.id)?.rank;
    if (wasRank !== undefined && wasRank > 1) {
      expect(await row.locator("td.change").textContent()).toBe(`▲ ${wasRank - 1}`);
    }
    await screenshot("dashboard-after-tip");
  });

  it("shows the error banner while the API is stopped and recovers by itself", async () => {
    requireBrowser();
    const banner = page.getByTestId("error-banner");
    expect(await banner.count()).toBe(0);
    await api.stop();
    await banner.waitFor({ state: "visible", timeout: 30_000 });
    expect(await banner.textContent()).toContain("API unreachable");
    // The last good numbers stay on screen under the banner.
    expect(await page.getByTestId("card-hit-ratio-value").textContent()).toMatch(/%$/);
    await screenshot("dashboard-api-down");

    await api.start();
    await banner.waitFor({ state: "detached", timeout: 60_000 });
    await expect
      .poll(() => page.getByTestId("updated-ago").textContent(), { timeout: 15_000 })
      .toMatch(/Updated (now|\d+ seconds? ago)/);
    const shot = await screenshot("dashboard-recovered");
    if (process.env.HOTPATH_UPDATE_SCREENSHOT === "1") {
      await mkdir(join(appDir, "docs"), { recursive: true });
      await copyFile(join(artifacts, "dashboard-light.png"), join(appDir, "docs", "dashboard.png"));
    }
    expect(shot).toContain("test-artifacts");
  });
});
