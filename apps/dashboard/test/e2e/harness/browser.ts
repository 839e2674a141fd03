import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** Debian's Chromium (CI installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Flags for a closed network (TOOLCHAIN.md trap 7): no GPU, no QUIC, no calls home, only loopback resolves. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // One argv entry: no shell, so no quotes around the value.
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
];

/** A browser context on a fresh profile directory, removed again by `close()`. */
export interface BrowserHandle {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh temporary profile (launchPersistentContext: playwright refuses
 * --user-data-dir in args). Throws, never skips, when the browser is missing.
 */
export async function launchChromium(
  options: { locale?: string; colorScheme?: "light" | "dark" } = {},
): Promise<BrowserHandle> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH; ` +
        "never `playwright install`. The dashboard browser test cannot run without it.",
    );
  }
  const profile = await mkdtemp(join(tmpdir(), "hotpath-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    locale: options.locale ?? "en-US",
    timezoneId: "UTC",
    colorScheme: options.colorScheme ?? "light",
    viewport: { width: 1440, height: 1100 },
    deviceScaleFactor: 1,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
