import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHotpathClient, type HotpathClient } from "@hotpath/api/client";
import { deletePrefix, freePort, openTestRedis } from "@hotpath/testing";
import type { Page } from "playwright-core";
import { startApiProcess, testApiEnv, type ApiProcess } from "./api-process.ts";
import type { BrowserHandle } from "./browser.ts";
import { buildAndPreview, type DashboardServer } from "./dashboard-server.ts";

/** The real API process, the built dashboard under `vite preview`, and a page in Chromium. */
export interface DashboardStack {
  api: ApiProcess;
  dashboard: DashboardServer;
  page: Page;
  /** Where the production bundle was built. */
  outDir: string;
  /** A typed API client holding the admin token (the test's own view of what the API reports). */
  adminClient(): HotpathClient;
  /** Stops everything and deletes the stack's Redis keys and directories. */
  close(): Promise<void>;
}

/**
 * Starts the API (`apps/api/src/main.ts`, own PGlite data dir, seeded, the test Redis under key
 * prefix `app`) and the production build of the dashboard proxying to it, and opens a page.
 */
export async function startDashboardStack(options: {
  browser: BrowserHandle;
  redisUrl: string;
  app: string;
  adminToken: string;
  /** More API environment (e.g. the test-only `TEST_PROCEDURE_DELAY`). */
  env?: Record<string, string>;
}): Promise<DashboardStack> {
  const dataDir = await mkdtemp(join(tmpdir(), "hotpath-dash-api-"));
  const outDir = await mkdtemp(join(tmpdir(), "hotpath-dash-dist-"));
  const api = await startApiProcess({
    port: await freePort(),
    // A loaded 2-core CI machine can take over a minute to compile and migrate.
    readyTimeoutMs: 150_000,
    env: {
      ...testApiEnv({
        redisUrl: options.redisUrl,
        app: options.app,
        adminToken: options.adminToken,
        dataDir,
      }),
      ...options.env,
    },
  });
  const dashboard = await buildAndPreview({ apiUrl: api.url, port: await freePort(), outDir });
  const page = await options.browser.context.newPage();
  return {
    api,
    dashboard,
    page,
    outDir,
    adminClient: () =>
      createHotpathClient({
        url: `${api.url}/trpc`,
        headers: { authorization: `Bearer ${options.adminToken}` },
      }),
    async close() {
      await page.close().catch(() => undefined);
      await dashboard.close();
      await api.stop();
      const redis = openTestRedis("tcp");
      await deletePrefix(redis, `${options.app}:`).finally(() => redis.close());
      await rm(outDir, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
