import { defineProject } from "vitest/config";
import { redisTest } from "../../vitest.shared.ts";

export default defineProject({ test: { ...redisTest } });
