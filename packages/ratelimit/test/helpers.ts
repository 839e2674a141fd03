import type { HotpathRedis } from "@hotpath/redis";
import { setTimeout as sleep } from "node:timers/promises";

export { sleep };

/** Waits until just after the start of the next window of `windowMs` (epoch aligned, as the algorithms are). */
export async function alignToWindow(windowMs: number, marginMs = 30): Promise<void> {
  const now = Date.now();
  await sleep((Math.floor(now / windowMs) + 1) * windowMs - now + marginMs);
}

/** Sleeps until `epochMs` (+ margin). */
export async function sleepUntil(epochMs: number, marginMs = 30): Promise<void> {
  const wait = epochMs - Date.now() + marginMs;
  if (wait > 0) await sleep(wait);
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
