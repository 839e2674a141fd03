import type { Redis } from "@upstash/redis";
import { keysPerMaster, type RedisClusterHandle } from "./redis-cluster.ts";

/** One page of a SCAN-like call: the next cursor and the items of the page. */
export type ScanPage<T> = readonly [cursor: string | number, items: readonly T[]];

/**
 * Runs a SCAN loop to its end: calls `page` from cursor "0" until it answers cursor "0", and
 * returns every item in order with every cursor seen (as the exact text Redis sent).
 * @throws Error when the loop does not end within `maxRounds` pages.
 */
export async function scanAll<T>(
  page: (cursor: string) => Promise<ScanPage<T>>,
  maxRounds = 10_000,
): Promise<{ items: T[]; cursors: string[] }> {
  const items: T[] = [];
  const cursors: string[] = [];
  let cursor = "0";
  for (let round = 0; round < maxRounds; round += 1) {
    const [next, found] = await page(cursor);
    cursor = String(next);
    cursors.push(cursor);
    items.push(...found);
    if (cursor === "0") return { items, cursors };
  }
  throw new Error(`the SCAN loop did not end within ${maxRounds} pages`);
}

/**
 * Writes the keys of a whole-cluster SCAN test in one pipeline (`strings` as string keys,
 * `hashes` as hash keys) and returns how many of `strings` each master holds, by port.
 * @throws Error when a key's slot is served by no master.
 */
export async function writeScanKeys(
  redis: Redis,
  cluster: RedisClusterHandle,
  keys: { strings: readonly string[]; hashes: readonly string[] },
  slotOf: (key: string) => number,
): Promise<Map<number | undefined, number>> {
  const perMaster = keysPerMaster(await cluster.topology(), keys.strings, slotOf);
  if (perMaster.has(undefined)) throw new Error("some keys hash to a slot no master serves");
  const write = redis.pipeline();
  for (const key of keys.strings) write.set(key, 1);
  for (const key of keys.hashes) write.hset(key, { f: 1 });
  await write.exec();
  return perMaster;
}
