import { resolve } from "node:path";
import type { ViteUserConfig } from "vitest/config";

type TestOptions = NonNullable<ViteUserConfig["test"]>;

/** Test options shared by every workspace's vitest.config.ts. */
export const sharedTest = {
  include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  restoreMocks: true,
  testTimeout: 20_000,
  hookTimeout: 30_000,
} satisfies TestOptions;

/** {@link sharedTest} plus the global setup that finds a Redis and starts a gateway (inject()). */
export const redisTest = {
  ...sharedTest,
  globalSetup: [resolve(import.meta.dirname, "packages/testing/src/global-setup.ts")],
} satisfies TestOptions;
