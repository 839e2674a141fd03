import { resolve } from "node:path";
import type { ViteUserConfig } from "vitest/config";

type TestOptions = NonNullable<ViteUserConfig["test"]>;

/**
 * `pnpm test` (scripts/test.ts) sums these reports into one closing line. Reporters are root
 * options: a config with vitest `projects` must spread this at its root (inside a project they
 * are ignored).
 */
export const reportOptions: TestOptions = process.env.HOTPATH_TEST_REPORT
  ? { reporters: ["default", "json"], outputFile: { json: ".cache/vitest-report.json" } }
  : {};

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
