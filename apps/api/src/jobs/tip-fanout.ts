import { listFollowerIds } from "../db/follows.ts";
import { insertTipNotification, insertTipNotificationsForFollowers } from "../db/notifications.ts";
import { listPendingFanout, markFanoutDone } from "../db/outbox.ts";
import type { SqlExecutor } from "../db/database.ts";
import type { Logger } from "../logger.ts";
import type { TipFanout } from "../trpc/deps.ts";

/** Most messages one QStash batch call carries (the local server's and the fan-out's page size). */
export const FANOUT_BATCH_SIZE = 1000;

/** Options of {@link createTipFanout}. */
export interface TipFanoutOptions {
  db: SqlExecutor;
  logger: Logger;
  /**
   * Publishes one `notify-follower` job per follower in ONE QStash batch call (deduplicated per
   * tip and follower). Undefined without QStash: the notifications are written in one statement.
   */
  publish?: ((tipId: number, followerIds: readonly number[]) => Promise<void>) | undefined;
  /** Followers per batch call. @default FANOUT_BATCH_SIZE */
  batchSize?: number;
  /** Fan-outs pending at least this long are re-run by the relay. @default 30 */
  relayAfterSeconds?: number;
  /** Tips per relay run. @default 500 */
  relayBatch?: number;
}

/**
 * Fan-out of a tip to the followers of its creator: one batch of `notify-follower` jobs on
 * QStash (a page of {@link FANOUT_BATCH_SIZE} followers per call), each writing the tip into
 * one follower's notification feed at most once. The tip's outbox row (committed with the tip)
 * keeps the fan-out pending until every batch was published; the relay re-runs the pending ones,
 * and the per (tip, follower) deduplication makes a re-run notify nobody twice.
 */
export function createTipFanout(options: TipFanoutOptions): TipFanout {
  const { db, logger } = options;
  const batchSize = options.batchSize ?? FANOUT_BATCH_SIZE;
  const relayAfter = options.relayAfterSeconds ?? 30;

  const fanOut: TipFanout["fanOut"] = async (tip) => {
    const publish = options.publish;
    if (!publish) {
      const written = await insertTipNotificationsForFollowers(db, tip.id);
      return { followers: written, batches: 0 };
    }
    let followers = 0;
    let batches = 0;
    let afterId = 0;
    for (;;) {
      const ids = await listFollowerIds(db, tip.creatorId, {
        afterId,
        limit: batchSize,
        exceptUserId: tip.fromUserId,
      });
      if (ids.length === 0) break;
      await publish(tip.id, ids);
      followers += ids.length;
      batches += 1;
      if (ids.length < batchSize) break;
      afterId = ids[ids.length - 1] ?? afterId;
    }
    return { followers, batches };
  };

  /** Fans a tip out, then marks its fan-out done (a failure leaves it pending for the relay). */
  const fanOutAndMark = async (tip: Parameters<TipFanout["fanOut"]>[0]) => {
    await fanOut(tip);
    await markFanoutDone(db, tip.id);
  };

  return {
    afterCommit(tip, waitUntil) {
      waitUntil(
        fanOutAndMark(tip).catch((error: unknown) =>
          logger.warn("tip fan-out failed; the relay retries it", {
            tipId: tip.id,
            error: String(error),
          }),
        ),
      );
    },
    fanOut,
    async relay() {
      const rows = await listPendingFanout(db, relayAfter, options.relayBatch ?? 500);
      let fannedOut = 0;
      let failed = 0;
      for (const tip of rows) {
        try {
          await fanOutAndMark(tip);
          fannedOut += 1;
        } catch (error) {
          failed += 1;
          logger.warn("fan-out relay failed for a tip", { tipId: tip.id, error: String(error) });
        }
      }
      return { fannedOut, failed };
    },
    notify: (tipId, followerId) => insertTipNotification(db, followerId, tipId),
  };
}
