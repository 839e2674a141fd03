import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ViteUserConfig } from "vitest/config";
import type { Reporter } from "vitest/reporters";

type TestOptions = NonNullable<ViteUserConfig["test"]>;

/**
 * `pnpm test` (scripts/test.ts) sums these reports into one closing line. Reporters are root
 * options: a config with vitest `projects` must spread this at its root (inside a project they
 * are ignored).
 */
export const reportOptions: TestOptions = process.env.HOTPATH_TEST_REPORT
  ? {
      reporters: ["default", "json", unhandledErrorsReporter()],
      outputFile: { json: ".cache/vitest-report.json" },
    }
  : {};

/**
 * Writes how many errors vitest caught outside any test (an unhandled rejection, an error thrown
 * in a timer) to `.cache/vitest-errors.json`: they fail the run but the JSON report does not count
 * them, and the closing line must say why a run with no failed test failed.
 */
function unhandledErrorsReporter(): Reporter {
  return {
    onTestRunEnd(_modules, unhandledErrors) {
      mkdirSync(".cache", { recursive: true });
      writeFileSync(
        join(".cache", "vitest-errors.json"),
        JSON.stringify({ unhandledErrors: unhandledErrors.length }),
      );
    },
  };
}

/** Test options shared by every workspace's vitest.config.ts. */
export const sharedTest = {
  include: ["src/**/*.test.ts", "src/**/*.test.tsx", "test/**/*.test.ts"],
  restoreMocks: true,
  testTimeout: 60_000,
  hookTimeout: 120_000,
  ...reportOptions,
} satisfies TestOptions;

/** {@link sharedTest} plus the global setup that finds a Redis and starts a gateway (inject()). */
export const redisTest = {
  ...sharedTest,
  globalSetup: [resolve(import.meta.dirname, "vitest.global-setup.ts")],
} satisfies TestOptions;
