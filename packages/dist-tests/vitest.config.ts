import { defineProject } from "vitest/config";
import { redisTest } from "../../vitest.shared.ts";
import { sourceCondition } from "../../source-condition.ts";

// turbo builds every package this one depends on before its tests (turbo.json).
export default defineProject({
  plugins: [sourceCondition()],
  test: { ...redisTest, fileParallelism: false, testTimeout: 300_000, hookTimeout: 600_000 },
});
