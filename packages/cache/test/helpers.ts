import type { Requester } from "@upstash/redis";
import type { CreateRedisOptions, HotpathRedis, RedisTransport } from "@hotpath/redis";
import { deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import { afterAll, beforeAll } from "vitest";

/**
 * The shared setup of a suite over one transport: registers `beforeAll` (opens a test client and
 * hands it to `onOpen`) and `afterAll` (deletes the keys of every app made by `newApp`, closes the
 * client). Call it at the top of a `describe`. `options` go to the client (e.g. `guardSlots`);
 * cleanup runs on a plain client.
 * @example let redis: HotpathRedis; const { newApp } = useTestApps(transport, (c) => (redis = c));
 */
export function useTestApps(
  transport: RedisTransport,
  onOpen: (redis: HotpathRedis) => void,
  options: Omit<CreateRedisOptions, "url" | "token"> = {},
): { newApp: (label: string) => string } {
  let redis: HotpathRedis | undefined;
  const apps: string[] = [];
  beforeAll(() => {
    redis = openTestRedis(transport, options);
    onOpen(redis);
  });
  afterAll(async () => {
    if (!redis) return;
    const cleaner = options.guardSlots ? openTestRedis(transport) : redis;
    for (const app of apps) await deletePrefix(cleaner, `${app}:`);
    if (cleaner !== redis) await cleaner.close();
    await redis.close();
  });
  const newApp = (label: string): string => {
    const app = uniquePrefix(label);
    apps.push(app);
    return app;
  };
  return { newApp };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

/**
 * Holds back the replies of the requests `match` selects: each request is sent at once, and once
 * its reply has arrived it is kept until {@link release}. `arrived` counts the replies held, so a
 * test can order "the read was answered by Redis" before "a write ran" on any transport.
 */
export function holdReplies(
  redis: HotpathRedis,
  match: (body: unknown) => boolean,
): { readonly arrived: number; release(): void; restore(): void } {
  const requester = (redis as unknown as { client: Requester }).client;
  const original = requester.request.bind(requester);
  let arrived = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  requester.request = <TResult>(req: Parameters<Requester["request"]>[0]) => {
    if (!match(req.body)) return original<TResult>(req);
    return original<TResult>(req).then(async (reply) => {
      arrived += 1;
      await released;
      return reply;
    });
  };
  return {
    get arrived() {
      return arrived;
    },
    release,
    restore() {
      requester.request = original;
    },
  };
}

/** A promise the test opens when it decides (orders steps without sleeping). */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * Waits until the TTL of `key` has gone back up three times (polling PTTL): a lease renewed
 * three times, so the original lease is long over. At most `timeoutMs`.
 */
export async function renewalsSeen(
  redis: HotpathRedis,
  key: string,
  timeoutMs = 20_000,
): Promise<void> {
  let renewals = 0;
  let previous = Number.POSITIVE_INFINITY;
  await eventually(async () => {
    const pttl = await redis.pttl(key);
    if (pttl > previous) renewals += 1;
    previous = pttl;
    return renewals >= 3;
  }, timeoutMs);
}
