import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import { redisTest, reportOptions, sharedTest } from "../../vitest.shared.ts";
import { sourceCondition } from "../../source-condition.ts";

export default defineConfig({
  test: {
    // Reporters live at the root with projects: this is what puts the unit and Chromium tests
    // into `pnpm test`'s closing line.
    ...reportOptions,
    projects: [
      {
        plugins: [react(), sourceCondition()],
        test: {
          ...sharedTest,
          name: "unit",
          environment: "happy-dom",
          include: ["src/**/*.test.ts", "src/**/*.test.tsx", "scripts/**/*.test.ts"],
        },
      },
      {
        plugins: [sourceCondition()],
        test: {
          ...redisTest,
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          // One browser, one stack: never run e2e files in parallel on the 2-core machine.
          fileParallelism: false,
          testTimeout: 120_000,
          // Building the bundle and starting the API on a loaded 2-core machine.
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
