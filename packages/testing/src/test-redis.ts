import { randomBytes } from "node:crypto";
import {
  createRedis,
  type CreateRedisOptions,
  type HotpathRedis,
  type RedisTransport,
} from "@hotpath/redis";
import { inject } from "vitest";
import "./provided-context.ts";

/** Both transports, for `describe.each(TRANSPORTS)` contract suites. */
export const TRANSPORTS = ["tcp", "rest"] as const satisfies readonly RedisTransport[];

/** A unique key prefix for one test (tests never flush a shared Redis). */
export function uniquePrefix(label: string): string {
  return `t${randomBytes(4).toString("hex")}-${label.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** Connection details of the shared test Redis and gateway (from the global setup). */
export function testTargets(): { redisUrl: string; gatewayUrl: string; gatewayToken: string } {
  return {
    redisUrl: inject("redisUrl"),
    gatewayUrl: inject("gatewayUrl"),
    gatewayToken: inject("gatewayToken"),
  };
}

/**
 * A client of the shared test Redis over one transport: `tcp` directly, `rest` through the
 * test gateway with the unmodified `@upstash/redis` HTTP client. Close it in `afterAll`.
 */
export function openTestRedis(
  transport: RedisTransport,
  options: Omit<CreateRedisOptions, "url" | "token"> = {},
): HotpathRedis {
  const { redisUrl, gatewayUrl, gatewayToken } = testTargets();
  return transport === "tcp"
    ? createRedis({ timeoutMs: 5000, ...options, url: redisUrl })
    : createRedis({ timeoutMs: 5000, ...options, url: gatewayUrl, token: gatewayToken });
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never FLUSHDB). */
export async function deletePrefix(redis: HotpathRedis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, { match: `${prefix}*`, count: 500 });
    cursor = String(next);
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== "0");
}
