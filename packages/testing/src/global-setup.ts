import type { TestProject } from "vitest/node";
import "./provided-context.ts";
import { resolveTestRedis } from "./resolve-redis.ts";

/** A running REST gateway as the harness needs it (what `@hotpath/gateway`'s `startGateway` returns). */
export interface HarnessGateway {
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

/** Starts a REST gateway in front of a Redis (`startGateway` of `@hotpath/gateway`, injected). */
export type StartHarnessGateway = (options: {
  redisUrl: string;
  port: number;
}) => Promise<HarnessGateway>;

/**
 * Creates the vitest global setup shared by every workspace on a real Redis: it resolves the test
 * Redis once and starts one gateway in front of it; both reach tests through `inject()`. The
 * gateway is injected, so the harness does not depend on the gateway package (no cycle).
 * @example export const setup = createGlobalSetup({ startGateway }); // in a global-setup file
 */
export function createGlobalSetup(dependencies: {
  startGateway: StartHarnessGateway;
}): (project: TestProject) => Promise<() => Promise<void>> {
  return async (project) => {
    const redis = await resolveTestRedis();
    const gateway = await dependencies.startGateway({ redisUrl: redis.url, port: 0 });
    project.provide("redisUrl", redis.url);
    project.provide("gatewayUrl", gateway.url);
    project.provide("gatewayToken", gateway.token);
    return async () => {
      await gateway.close();
      await redis.server?.stop();
    };
  };
}
