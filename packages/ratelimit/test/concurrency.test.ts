import {
  TRANSPORTS,
  openTestRedis,
  deletePrefix,
  testTargets,
  uniquePrefix,
} from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import { afterAll, beforeAll, describe } from "vitest";
import { defineAccuracyTests } from "./accuracy.ts";

describe.each(TRANSPORTS)(
  "accuracy under concurrency over %s: 1,000 requests from 4 processes, limit 100",
  (transport) => {
    let redis: HotpathRedis;
    const prefixes: string[] = [];

    beforeAll(() => {
      redis = openTestRedis(transport);
    });
    afterAll(async () => {
      for (const prefix of prefixes) await deletePrefix(redis, prefix);
      await redis.close();
    });

    defineAccuracyTests(
      () => {
        const { redisUrl, gatewayUrl, gatewayToken } = testTargets();
        return transport === "tcp" ? { url: redisUrl } : { url: gatewayUrl, token: gatewayToken };
      },
      () => {
        const prefix = uniquePrefix(`rl-conc-${transport}`);
        prefixes.push(prefix);
        return prefix;
      },
    );
  },
);
