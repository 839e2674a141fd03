import { createKeyspace } from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import { APPLIED_MARKER_TTL_SECONDS, tipAppliedKey } from "../adapters/projections.ts";
import type { Database } from "../db/database.ts";
import { readSnapshot, tipCountAndPending } from "../db/projection-truth.ts";
import { boardsReader } from "./rebuild/boards.ts";
import { countersReader } from "./rebuild/counters.ts";
import { feedsReader } from "./rebuild/feeds.ts";
import type { ProjectionDrift, ProjectionTruth, StagedSwap } from "./rebuild/types.ts";

export type {
  CounterDrift,
  FeedDrift,
  LeaderboardDrift,
  ProjectionDrift,
} from "./rebuild/types.ts";

/** What a reconcile found (and fixed, when asked to). */
export interface ReconcileReport {
  at: string;
  /** Tips in PostgreSQL at the snapshot. */
  tips: number;
  /** Everything that differed from PostgreSQL: leaderboard scores, counter buckets, feeds. */
  drift: ProjectionDrift[];
  /** True when every projection was rebuilt and swapped in. */
  rebuilt: boolean;
}

/**
 * Recomputes everything a tip projects into Redis — the creators and tippers leaderboards
 * (today, this ISO week, all time), the 30-day counters and the activity feeds — from one
 * PostgreSQL snapshot, reports what differs, and (when asked, or when anything drifted)
 * writes the truth to fresh keys and swaps it in with ONE MULTI of RENAMEs: readers see the
 * old projections or the new ones, never a half-written mix.
 *
 * The same MULTI sets the "applied" marker of every tip whose outbox row is still pending: the
 * rebuild counted it, so its later apply (job, relay) must not count it again. A tip committed
 * after the snapshot and applied before the swap is missing from the swapped-in keys; the next
 * reconcile restores it.
 */
export function createProjectionRebuild(options: {
  db: Database;
  redis: Redis;
  app: string;
  now?: () => number;
}) {
  const { db, redis, app } = options;
  const now = options.now ?? Date.now;
  const keys = createKeyspace(app);
  const source = { redis, app };
  const readers = [boardsReader(source), countersReader(source), feedsReader(source)];

  const swap = async (truths: ProjectionTruth[], pendingTipIds: readonly number[]) => {
    const nonce = crypto.randomUUID().slice(0, 8);
    let staged = 0;
    const tempKey = (area: Parameters<typeof keys.key>[0]) =>
      keys.key(area, "rebuild", nonce, staged++);
    const swaps: StagedSwap[] = [];
    for (const truth of truths) swaps.push(...(await truth.stage(tempKey)));
    const multi = redis.multi();
    for (const { live, temp, ttlSeconds } of swaps) {
      if (temp === undefined) {
        multi.del(live);
        continue;
      }
      multi.rename(temp, live);
      // RENAME carries the staged key's safety TTL over: replace it with the live key's own.
      if (ttlSeconds === undefined) multi.persist(live);
      else multi.expire(live, ttlSeconds);
    }
    for (const tipId of pendingTipIds)
      multi.set(tipAppliedKey(app, tipId), "1", { nx: true, ex: APPLIED_MARKER_TTL_SECONDS });
    await multi.exec();
  };

  return {
    /**
     * Compares Redis with PostgreSQL; with `fix`, rebuilds and swaps when anything drifted
     * (`force`: always).
     */
    async reconcile(o: { fix: boolean; force?: boolean }): Promise<ReconcileReport> {
      const at = now();
      const { truths, tips, pendingTipIds } = await readSnapshot(db, async (tx) => {
        const read: ProjectionTruth[] = [];
        for (const reader of readers) read.push(await reader(tx, at));
        return { truths: read, ...(await tipCountAndPending(tx)) };
      });
      const drift: ProjectionDrift[] = [];
      for (const truth of truths) drift.push(...(await truth.compare()));
      const rebuilt = o.fix && (o.force === true || drift.length > 0);
      if (rebuilt) await swap(truths, pendingTipIds);
      return { at: new Date(at).toISOString(), tips, drift, rebuilt };
    },
  };
}

/** The projection rebuild of one API. */
export type ProjectionRebuild = ReturnType<typeof createProjectionRebuild>;
