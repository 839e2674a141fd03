import {
  COUNTER_DAYS,
  COUNTER_TTL_SECONDS,
  dayOf,
  tipCounterKey,
} from "../../adapters/projections.ts";
import { userTag } from "../../adapters/projection-groups.ts";
import { listCreatorIds, tipCountsByCreatorDay } from "../../db/projection-truth.ts";
import {
  STAGED_TTL_SECONDS,
  type CounterDrift,
  type ProjectionReader,
  type ProjectionSource,
  type StagedSwap,
} from "./types.ts";

const DAY_MS = 86_400_000;

/**
 * The 30-day tip counters: one hash `{ n, cents }` per creator per UTC day, for every creator
 * (every user owning a stream) and each of the {@link COUNTER_DAYS} days `tips30d` sums.
 */
export function countersReader({ redis, app }: ProjectionSource): ProjectionReader {
  return async (tx, at) => {
    const today = Math.floor(at / DAY_MS) * DAY_MS;
    const days = Array.from({ length: COUNTER_DAYS }, (_, i) => dayOf(today - i * DAY_MS));
    const since = new Date(today - (COUNTER_DAYS - 1) * DAY_MS).toISOString();
    const rows = await tipCountsByCreatorDay(tx, since);
    const creators = new Set(await listCreatorIds(tx));
    for (const row of rows) creators.add(row.creatorId);
    const want = new Map(rows.map((row) => [`${row.creatorId}|${row.day}`, row]));
    const buckets = [...creators].flatMap((creatorId) =>
      days.map((day) => {
        const truth = want.get(`${creatorId}|${day}`);
        return {
          creatorId,
          day,
          key: tipCounterKey(app, creatorId, day),
          expected: { count: truth?.count ?? 0, cents: truth?.cents ?? 0 },
        };
      }),
    );
    return {
      async compare() {
        if (buckets.length === 0) return [];
        const pipeline = redis.pipeline();
        for (const { key } of buckets) pipeline.hmget(key, "n", "cents");
        const found = await pipeline.exec<(Record<string, unknown> | null)[]>();
        const drift: CounterDrift[] = [];
        for (const [index, { creatorId, day, expected }] of buckets.entries()) {
          const row = found[index];
          const actual = { count: Number(row?.n ?? 0), cents: Number(row?.cents ?? 0) };
          if (actual.count !== expected.count || actual.cents !== expected.cents)
            drift.push({ projection: "counter", creatorId, day, expected, actual });
        }
        return drift;
      },
      async stage(tempKey) {
        const swaps: StagedSwap[] = [];
        const pipeline = redis.pipeline();
        for (const { creatorId, key, expected } of buckets) {
          if (expected.count === 0) {
            swaps.push({ live: key });
            continue;
          }
          const temp = tempKey("count", userTag(creatorId));
          pipeline.hset(temp, { n: expected.count, cents: expected.cents });
          pipeline.expire(temp, STAGED_TTL_SECONDS);
          swaps.push({ live: key, temp, ttlSeconds: COUNTER_TTL_SECONDS });
        }
        if (pipeline.length() > 0) await pipeline.exec();
        return swaps;
      },
    };
  };
}
