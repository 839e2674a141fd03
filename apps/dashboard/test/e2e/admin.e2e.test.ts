import { join } from "node:path";
import { createHotpathClient, type HotpathClient } from "@hotpath/api/client";
import { uniquePrefix } from "@hotpath/testing";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium, type BrowserHandle } from "./harness/browser.ts";
import { startDashboardStack, type DashboardStack } from "./harness/stack.ts";

const ADMIN_TOKEN = `e2e-admin-${Math.random().toString(36).slice(2)}-token`;
const app = uniquePrefix("dash-admin").replace(/[^A-Za-z0-9_.-]/g, "_");
const artifacts = join(import.meta.dirname, "..", "..", "test-artifacts");
/** The admin mutations the panel offers (DLQ retry/delete are the Jobs view's). */
const ADMIN_MUTATIONS = [
  "admin.resetIdentifier",
  "admin.denyList.add",
  "admin.denyList.remove",
  "admin.overrides.set",
  "admin.overrides.remove",
  "admin.cache.invalidateNamespace",
  "admin.cache.invalidateTag",
];

let browser: BrowserHandle;
let stack: DashboardStack;
let page: Page;
let daveToken: string;
let dave: HotpathClient;

/** The admin panel (the page has other selects labelled "Policy" and "Namespace"). */
const panel = () => page.getByTestId("admin");

/** Status of a GET of a query procedure as `token` (and its x-cache header). */
async function get(path: string, input: unknown, token?: string) {
  const response = await fetch(
    `${stack.api.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`,
    { headers: token ? { authorization: `Bearer ${token}` } : {} },
  );
  await response.body?.cancel();
  return { status: response.status, cache: response.headers.get("x-cache") };
}

/** The newest audit entry of `action`, as the API reports it. */
async function latestAudit(action: string) {
  const { entries } = await stack.adminClient().admin.audit.query({ limit: 100 });
  return entries.find((entry) => entry.action === action);
}

/** Clicks a confirmed button: the question must show and nothing may run before "Confirm". */
async function confirm(name: string, question: RegExp) {
  await page.getByRole("button", { name, exact: true }).click();
  const dialog = page.getByRole("alertdialog");
  expect(await dialog.textContent()).toMatch(question);
  await dialog.getByRole("button", { name: "Confirm" }).click();
}

/** Waits for the panel's answer line, then for the action's audit row on the page and in the API. */
async function expectDone(action: string, outcome: RegExp, target: string) {
  await expect
    .poll(() => page.getByTestId("admin-outcome").textContent(), { timeout: 30_000 })
    .toMatch(outcome);
  const entry = await latestAudit(action);
  expect(entry).toMatchObject({ outcome: "ok", target });
  const row = page.locator(`[data-testid="audit-table"] tr[data-audit-id="${entry?.id}"]`);
  await row.waitFor({ timeout: 30_000 });
  expect(await row.getAttribute("data-action")).toBe(action);
  expect(await row.textContent()).toContain(target);
}

beforeAll(async () => {
  browser = await launchChromium({ locale: "en-US" });
  stack = await startDashboardStack({
    browser,
    redisUrl: inject("redisUrl"),
    app,
    adminToken: ADMIN_TOKEN,
  });
  page = stack.page;
  const anonymous = createHotpathClient({ url: `${stack.api.url}/trpc` });
  ({ token: daveToken } = await anonymous.sessions.login.mutate({
    username: "dave",
    password: "hotpath-demo",
  }));
  dave = createHotpathClient({
    url: `${stack.api.url}/trpc`,
    headers: { authorization: `Bearer ${daveToken}` },
  });
});

afterAll(async () => {
  await stack?.close();
  await browser?.close();
});

describe("admin actions in Chromium against the real API", () => {
  let identifier = "";

  it("resets a blocked user's limit from the identifier tables", async () => {
    await page.goto(stack.dashboard.url);
    await page.getByLabel("Token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Open dashboard" }).click();
    await page.getByTestId("admin").waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("deny-list").textContent()).toContain("Nobody is denied.");

    // dave goes over the strict tips limit (10 per sliding minute): the burst is blocked.
    const status = await dave.streams.status.query({ username: "alice" });
    if (!status.stream) throw new Error("alice has no live stream to tip");
    let blocked = 0;
    for (let i = 0; i < 12; i++) {
      await dave.tips.quick
        .mutate(
          { streamId: status.stream.id, amount: 1 },
          { context: { idempotencyKey: `${app}-${i}` } },
        )
        .catch(() => (blocked += 1));
    }
    expect(blocked).toBeGreaterThan(0);

    // The operator sees dave (resolved from his hash) among the blocked and acts on him.
    const row = page.locator('[data-testid="top-blocked"] tbody tr', {
      hasText: /dave \(user \d+\)/,
    });
    await row.waitFor({ timeout: 30_000 });
    identifier = (await row.getAttribute("data-identifier")) ?? "";
    expect(identifier).toMatch(/^user_/);
    await row.getByRole("button", { name: /^Act on/ }).click();
    expect(await panel().getByLabel("Identifier", { exact: true }).inputValue()).toBe(identifier);
    await expect
      .poll(() => page.getByTestId("quota-remaining-strict").textContent(), { timeout: 30_000 })
      .toBe("0");

    await confirm("Reset limits", /Reset the rate-limit counters of user_\S+ in every policy\?/);
    await expectDone("admin.resetIdentifier", /^Reset user_/, identifier);
    const strict = (await stack.adminClient().admin.quota.query({ identifier })).policies.find(
      (p) => p.policy === "strict",
    );
    expect(strict?.remaining).toBe(strict?.limit);
    await expect
      .poll(() => page.getByTestId("quota-remaining-strict").textContent(), { timeout: 30_000 })
      .toBe(String(strict?.limit));
  });

  it("denies the user (429 from the API) and takes him off the list again", async () => {
    expect((await get("users.byId", { id: 1 }, daveToken)).status).toBe(200);
    await confirm("Deny identifier", /Deny user_\S+ on every policy\?/);
    await expectDone("admin.denyList.add", /^Denied user_/, identifier);
    expect((await stack.adminClient().admin.controls.query()).denied).toContainEqual({
      kind: "identifier",
      value: identifier,
    });
    expect((await get("users.byId", { id: 1 }, daveToken)).status).toBe(429);
    await page
      .locator(`[data-testid="deny-list"] tr[data-row="identifier:${identifier}"]`)
      .waitFor();

    await confirm(`Remove ${identifier} from the deny list`, /Take user_\S+ off the deny list\?/);
    await expectDone("admin.denyList.remove", /^Took user_\S+ off the deny list/, identifier);
    expect((await stack.adminClient().admin.controls.query()).denied).toEqual([]);
    expect((await get("users.byId", { id: 1 }, daveToken)).status).toBe(200);
    await expect
      .poll(() => page.getByTestId("deny-list").textContent(), { timeout: 30_000 })
      .toContain("Nobody is denied.");
  });

  it("sets an override that the API's quota shows, then removes it", async () => {
    await panel().getByLabel("Policy").selectOption("strict");
    await panel().getByLabel("Limit").fill("50");
    await confirm("Set override", /Set the override of user_\S+ to strict = 50\?/);
    await expectDone("admin.overrides.set", /^Override of user_\S+ set to strict = 50/, identifier);
    const quota = await stack.adminClient().admin.quota.query({ identifier });
    expect(quota.policies.find((p) => p.policy === "strict")?.limit).toBe(50);
    await expect
      .poll(() => page.getByTestId("quota-limit-strict").textContent(), { timeout: 30_000 })
      .toBe("50");
    expect(
      await page.locator(`[data-testid="overrides"] tr[data-row="${identifier}"]`).textContent(),
    ).toContain("strict = 50");

    await confirm(`Remove the override of ${identifier}`, /Remove the override of user_\S+\?/);
    await expectDone("admin.overrides.remove", /^Removed the override of user_/, identifier);
    expect((await stack.adminClient().admin.controls.query()).overrides).toEqual([]);
    await expect
      .poll(() => page.getByTestId("quota-limit-strict").textContent(), { timeout: 30_000 })
      .toBe("10");
  });

  it("invalidates a cache namespace and a tag: the API's next read is a miss", async () => {
    await get("users.byId", { id: 2 });
    expect((await get("users.byId", { id: 2 })).cache).toBe("hit");
    await panel().getByLabel("Namespace").fill("user");
    await confirm("Invalidate namespace", /Delete every entry of cache namespace user\?/);
    await expectDone(
      "admin.cache.invalidateNamespace",
      /^Removed [1-9]\d* entries of cache namespace user\.$/,
      "user",
    );
    expect((await get("users.byId", { id: 2 })).cache).toBe("miss");

    await get("users.list", { page: 1 });
    expect((await get("users.list", { page: 1 })).cache).toBe("hit");
    await panel().getByLabel("Namespace").fill("userlist");
    await panel().getByLabel("Tag").fill("users:list");
    await confirm(
      "Invalidate tag",
      /Delete the entries of cache namespace userlist tagged users:list\?/,
    );
    await expectDone(
      "admin.cache.invalidateTag",
      /^Removed [1-9]\d* entries of cache namespace userlist tagged users:list\.$/,
      "userlist#users:list",
    );
    expect((await get("users.list", { page: 1 })).cache).toBe("miss");
    await page.screenshot({ path: join(artifacts, "dashboard-admin.png"), fullPage: true });
  });

  it("pages the audit trail beyond its newest 25 rows with Older and Newer", async () => {
    const admin = stack.adminClient();
    for (let i = 0; i < 30; i++)
      await admin.admin.resetIdentifier.mutate({ identifier: `user_audit_page_${i}` });
    // The API's own pages, read with its cursor.
    const first = await admin.admin.audit.query({ limit: 25 });
    expect(first.nextBefore).not.toBeNull();
    const second = await admin.admin.audit.query({ limit: 25, before: first.nextBefore ?? 0 });
    const audit = page.getByTestId("audit");
    const shownIds = () =>
      audit
        .locator("tbody tr")
        .evaluateAll((rows) => rows.map((row) => Number(row.getAttribute("data-audit-id"))));
    await expect
      .poll(shownIds, { timeout: 30_000 })
      .toEqual(first.entries.map((entry) => entry.id));

    await audit.getByRole("button", { name: "Older" }).click();
    await expect
      .poll(shownIds, { timeout: 30_000 })
      .toEqual(second.entries.map((entry) => entry.id));
    expect(await audit.getByTestId("audit-page").textContent()).toBe("Page 2");
    await page.screenshot({ path: join(artifacts, "dashboard-audit-older.png"), fullPage: true });

    await audit.getByRole("button", { name: "Newer" }).click();
    await expect
      .poll(shownIds, { timeout: 30_000 })
      .toEqual(first.entries.map((entry) => entry.id));
    expect(await audit.getByTestId("audit-page").textContent()).toBe("Page 1");
  });

  it("refuses a user's token: the page shows the 403 and every admin action answers 403", async () => {
    const newest = (await stack.adminClient().admin.audit.query({ limit: 1 })).entries[0]?.id;
    await page.getByRole("button", { name: "Forget token" }).click();
    await page.getByLabel("Token").fill(daveToken);
    await page.getByRole("button", { name: "Open dashboard" }).click();
    await expect
      .poll(() => page.getByTestId("token-message").textContent(), { timeout: 30_000 })
      .toMatch(/rejected the admin token \(403: /);
    expect(await page.getByTestId("admin").count()).toBe(0);

    // From the page's own origin (through the same proxy), with the user's token.
    const statuses = await page.evaluate(
      async ({ paths, token }) =>
        Promise.all(
          paths.map(async (path) => {
            const response = await fetch(`/trpc/${path}`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
              body: JSON.stringify({
                identifier: "user_x",
                namespace: "user",
                tag: "t",
                multiplier: 2,
              }),
            });
            return [path, response.status] as const;
          }),
        ),
      { paths: ADMIN_MUTATIONS, token: daveToken },
    );
    expect(Object.fromEntries(statuses)).toEqual(
      Object.fromEntries(ADMIN_MUTATIONS.map((path) => [path, 403])),
    );
    // Nothing ran: the audit trail has no new row.
    expect((await stack.adminClient().admin.audit.query({ limit: 1 })).entries[0]?.id).toBe(newest);
  });
});
