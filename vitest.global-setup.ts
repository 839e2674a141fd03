import { startGateway } from "@hotpath/gateway";
import { createGlobalSetup } from "@hotpath/testing/global-setup";

/**
 * Vitest global setup of every workspace that tests on a real Redis (`redisTest` in
 * vitest.shared.ts): the harness, with the gateway handed in from here (the repository root
 * depends on both, so neither package depends on the other).
 */
export const setup = createGlobalSetup({ startGateway });
