import type { Requester } from "@upstash/redis";
import type { HotpathRedis } from "@hotpath/redis";

/** Counts the requests (round trips) a client sends, by wrapping its requester. */
export function countRequests(redis: HotpathRedis): {
  readonly count: number;
  readonly bodies: unknown[];
  reset(): void;
} {
  const requester = (redis as unknown as { client: Requester }).client;
  const original = requester.request.bind(requester);
  const bodies: unknown[] = [];
  requester.request = (req) => {
    bodies.push(req.body);
    return original(req);
  };
  return {
    get count() {
      return bodies.length;
    },
    bodies,
    reset() {
      bodies.length = 0;
    },
  };
}

/** Waits until `check` is true (polling), at most `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
