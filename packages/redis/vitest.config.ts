import { defineProject } from "vitest/config";
import { sharedTest } from "../../vitest.shared.ts";
import { sourceCondition } from "../../source-condition.ts";

// Unit tests only (no Redis): the tests on a real Redis over both transports live in
// packages/redis-contract, where the harness and the gateway are available without a cycle.
export default defineProject({ plugins: [sourceCondition()], test: { ...sharedTest } });
