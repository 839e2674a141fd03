import type { HotpathRedis } from "@hotpath/redis";
import { setTimeout as sleep } from "node:timers/promises";

export { sleep };

/**
 * Polls `condition` until it returns a truthy value (which is returned) or `timeoutMs` passes
 * (then throws naming `what`). For states a test cannot be told about: Redis answering again.
 */
export async function waitFor<T>(
  what: string,
  condition: () => Promise<T> | T,
  { timeoutMs = 20_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A Redis client that counts the commands the limiter issues through it (eval/evalsha/pipeline…). */
export function countingRedis(redis: HotpathRedis): {
  redis: HotpathRedis;
  calls: Map<string, number>;
  total(): number;
} {
  const calls = new Map<string, number>();
  const counted = new Set([
    "eval",
    "evalsha",
    "pipeline",
    "get",
    "set",
    "del",
    "hgetall",
    "smembers",
    "multi",
  ]);
  const proxy = new Proxy(redis, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property === "string" && counted.has(property) && typeof value === "function") {
        return (...args: unknown[]) => {
          calls.set(property, (calls.get(property) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value;
    },
  });
  return { redis: proxy, calls, total: () => [...calls.values()].reduce((a, b) => a + b, 0) };
}
