import { defineProject } from "vitest/config";
import { redisTest } from "../../vitest.shared.ts";
import { sourceCondition } from "../../source-condition.ts";

export default defineProject({ plugins: [sourceCondition()], test: { ...redisTest } });
