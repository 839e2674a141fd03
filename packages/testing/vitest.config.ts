import { defineProject } from "vitest/config";
import { sharedTest } from "../../vitest.shared.ts";
import { sourceCondition } from "../../source-condition.ts";

// Harness tests start their own redis-server and proxy: no shared Redis or gateway needed.
export default defineProject({ plugins: [sourceCondition()], test: { ...sharedTest } });
