import type { HotpathRedis } from "@hotpath/redis";

/** Builds the keys of one scenario run (each run has its own prefix). */
export type KeyOf = (name: string) => string;

/** One contract scenario: the same code runs on every transport; its result must be the same. */
export type Scenario = (redis: HotpathRedis, key: KeyOf, prefix: string) => Promise<unknown>;

/** The Redis error text inside an SDK error, without the transport-specific framing. */
export function redisMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/^Command failed: /, "")
    .replace(/^Command \d+ \[ [^\]]+ \] failed: /, "")
    .replace(/, command was: [\s\S]*$/, "");
}

/** Settles a call to `{ result }` or `{ error: <Redis message> }` so errors compare as data. */
export async function settle<T>(call: Promise<T>): Promise<{ result: T } | { error: string }> {
  try {
    return { result: await call };
  } catch (error) {
    return { error: redisMessage(error) };
  }
}

/** The arguments as an array (keeps expected results readable). */
/** The error `run` rejects with (fails the test when it resolves). */
export async function rejection(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

export const list = (...items: unknown[]): unknown[] => items;
/** True when `value` lies in [min, max]. */
export const within = (value: number, min: number, max: number) => value >= min && value <= max;
/** The items as strings, sorted (order-free comparison). */
export const sorted = <T>(items: readonly T[]) => [...items].map(String).sort();

/** Every key matching `match` (and `type`), scanning until the cursor returns to 0. */
export async function scanAll(
  redis: HotpathRedis,
  match: string,
  type?: string,
): Promise<string[]> {
  const found = new Set<string>();
  let cursor: string | number = "0";
  // The shared Redis may hold any number of other tests' keys: scan until the cursor is back at 0.
  for (let round = 0; round < 100_000; round += 1) {
    const [next, keys]: [string | number, string[]] = await redis.scan(cursor, {
      match,
      count: 1000,
      ...(type ? { type } : {}),
    });
    for (const key of keys) found.add(key);
    cursor = next;
    if (String(cursor) === "0") break;
  }
  return [...found].sort();
}

/** A named set of contract scenarios. */
export type ScenarioTable = Record<string, { run: Scenario; expected: unknown }>;
