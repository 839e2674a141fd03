import { createKeyspace, keySlot, type HashTag, type KeyArea } from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import { tipAppliedKeys } from "../adapters/projection-groups.ts";
import { APPLIED_MARKER_TTL_SECONDS } from "../adapters/projections.ts";
import type { Database } from "../db/database.ts";
import { readSnapshot, tipCountAndPending, type PendingTip } from "../db/projection-truth.ts";
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

/** Concurrent MULTIs of a swap (one per slot: each user's keys are a slot of their own). */
const SWAP_CONCURRENCY = 64;

/**
 * Recomputes everything a tip projects into Redis — the creators and tippers leaderboards
 * (today, this ISO week, all time), the 30-day counters and the activity feeds — from one
 * PostgreSQL snapshot, reports what differs, and (when asked, or when anything drifted)
 * writes the truth to fresh keys and swaps it in with one MULTI of RENAMEs per slot group
 * (a board's three periods, a user's feed and counter buckets, the global feed: see
 * projection-groups.ts): readers of a group see its old projections or its new ones, never a
 * half-written mix. Different groups are swapped one after another (on Redis Cluster they live on
 * different nodes, no transaction spans them).
 *
 * A group's MULTI also sets that group's "applied" marker of every tip whose outbox row is still
 * pending: the rebuild counted it, so its later apply (job, relay) must not count it again there.
 * A tip committed after the snapshot and applied before the swap is missing from the swapped-in
 * keys; the next reconcile restores it.
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

  const swap = async (truths: ProjectionTruth[], pendingTips: readonly PendingTip[]) => {
    const nonce = crypto.randomUUID().slice(0, 8);
    let staged = 0;
    const tempKey = (area: KeyArea, tag: HashTag) =>
      keys.key(area, "rebuild", tag, nonce, staged++);
    const slots = new Map<number, { swaps: StagedSwap[]; markers: string[] }>();
    const slotOf = (key: string) => {
      const slot = keySlot(key);
      let group = slots.get(slot);
      if (!group) slots.set(slot, (group = { swaps: [], markers: [] }));
      return group;
    };
    for (const truth of truths)
      for (const item of await truth.stage(tempKey)) slotOf(item.live).swaps.push(item);
    for (const tip of pendingTips)
      for (const marker of tipAppliedKeys(app, tip)) slotOf(marker).markers.push(marker);
    const transactions = [...slots.values()].map(({ swaps, markers }) => () => {
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
      for (const marker of markers)
        multi.set(marker, "1", { nx: true, ex: APPLIED_MARKER_TTL_SECONDS });
      return multi.exec();
    });
    for (let i = 0; i < transactions.length; i += SWAP_CONCURRENCY)
      await Promise.all(transactions.slice(i, i + SWAP_CONCURRENCY).map((run) => run()));
  };

  return {
    /**
     * Compares Redis with PostgreSQL; with `fix`, rebuilds and swaps when anything drifted
     * (`force`: always).
     */
    async reconcile(o: { fix: boolean; force?: boolean }): Promise<ReconcileReport> {
      const at = now();
      const { truths, tips, pendingTips } = await readSnapshot(db, async (tx) => {
        const read: ProjectionTruth[] = [];
        for (const reader of readers) read.push(await reader(tx, at));
        return { truths: read, ...(await tipCountAndPending(tx)) };
      });
      const drift: ProjectionDrift[] = [];
      for (const truth of truths) drift.push(...(await truth.compare()));
      const rebuilt = o.fix && (o.force === true || drift.length > 0);
      if (rebuilt) await swap(truths, pendingTips);
      return { at: new Date(at).toISOString(), tips, drift, rebuilt };
    },
  };
}

/** The projection rebuild of one API. */
export type ProjectionRebuild = ReturnType<typeof createProjectionRebuild>;
