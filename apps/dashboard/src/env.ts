import { browserEnvSchema, parseEnv, type BrowserEnv } from "@hotpath/config";

/**
 * The dashboard's build-time settings (`VITE_API_URL`, `VITE_POLL_INTERVAL_MS`), validated with the
 * shared browser schema from @hotpath/config.
 */
export function loadBrowserEnv(source: Record<string, string | undefined>): BrowserEnv {
  return parseEnv(browserEnvSchema, source);
}
