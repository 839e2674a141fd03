import { listFollowerIds } from "../db/follows.ts";
import { insertTipNotification, insertTipNotificationsForFollowers } from "../db/notifications.ts";
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
}

/**
 * Fan-out of a tip to the followers of its creator: one batch of `notify-follower` jobs on
 * QStash (a page of {@link FANOUT_BATCH_SIZE} followers per call), each writing the tip into
 * one follower's notification feed at most once.
 */
export function createTipFanout(options: TipFanoutOptions): TipFanout {
  const { db, logger } = options;
  const batchSize = options.batchSize ?? FANOUT_BATCH_SIZE;

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

  return {
    afterCommit(tip, waitUntil) {
      waitUntil(
        fanOut(tip).catch((error: unknown) =>
          logger.warn("tip fan-out failed", { tipId: tip.id, error: String(error) }),
        ),
      );
    },
    fanOut,
    notify: (tipId, followerId) => insertTipNotification(db, followerId, tipId),
  };
}
