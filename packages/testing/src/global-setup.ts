import { startGateway } from "@hotpath/gateway";
import type { TestProject } from "vitest/node";
import "./provided-context.ts";
import { resolveTestRedis } from "./resolve-redis.ts";

/**
 * Vitest global setup shared by every workspace: resolves the test Redis once and starts one
 * gateway in front of it; both are handed to tests through `inject()`.
 */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await resolveTestRedis();
  const gateway = await startGateway({ redisUrl: redis.url, port: 0 });
  project.provide("redisUrl", redis.url);
  project.provide("gatewayUrl", gateway.url);
  project.provide("gatewayToken", gateway.token);
  return async () => {
    await gateway.close();
    await redis.server?.stop();
  };
}
