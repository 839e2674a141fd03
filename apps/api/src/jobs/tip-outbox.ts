import { findTipById } from "../db/tips.ts";
import {
  listPendingOutbox,
  markOutboxDone,
  markOutboxPublished,
  countPendingOutbox,
} from "../db/outbox.ts";
import type { SqlExecutor } from "../db/database.ts";
import type { Logger } from "../logger.ts";
import type { TipFanout, TipOutbox, TipProjections } from "../trpc/deps.ts";

/** Options of {@link createTipOutbox}. */
export interface TipOutboxOptions {
  db: SqlExecutor;
  projections: TipProjections;
  logger: Logger;
  /**
   * Hands a tip to the job queue (QStash `apply-tip`, deduplicated by tip id). Undefined without
   * QStash: pending rows are then applied by the relay itself.
   */
  enqueue?: ((tipId: number, attempt: number) => Promise<void>) | undefined;
  /** Rows pending at least this long are relayed. @default 30 */
  relayAfterSeconds?: number;
  /** Rows per relay run. @default 500 */
  relayBatch?: number;
  /**
   * The fan-out of the tips, which their outbox rows also stand for: each relay run re-runs the
   * fan-outs left pending too.
   */
  fanout?: Pick<TipFanout, "relay">;
  /** Runs after the commit, before the inline apply (fault tests cut Redis here). */
  onCommitted?: (tipId: number) => void | Promise<void>;
}

/**
 * The outbox of tip projections: the tip and its row commit together; the projections are
 * applied inline, else by the `apply-tip` job, else by the relay; the apply is idempotent per tip
 * id, so every committed tip reaches the leaderboard exactly once, eventually. The relay also
 * re-runs the tips' pending fan-outs (`fanout`).
 */
export function createTipOutbox(options: TipOutboxOptions): TipOutbox {
  const { db, projections, logger } = options;
  const relayAfter = options.relayAfterSeconds ?? 30;

  const enqueue = async (tipId: number, attempt = 0): Promise<boolean> => {
    if (!options.enqueue) return false;
    await options.enqueue(tipId, attempt);
    await markOutboxPublished(db, tipId);
    return true;
  };

  const applyById: TipOutbox["applyById"] = async (tipId) => {
    const tip = await findTipById(db, tipId);
    if (!tip) return "missing";
    const applied = await projections.apply(tip);
    await markOutboxDone(db, tipId);
    return applied ? "applied" : "already-applied";
  };

  return {
    async afterCommit(tip, waitUntil) {
      await options.onCommitted?.(tip.id);
      try {
        await projections.apply(tip);
      } catch (error) {
        // The tip and its outbox row are stored: the job or the relay applies it later.
        logger.error("tip projections failed; handed to the outbox", {
          tipId: tip.id,
          error: String(error),
        });
        waitUntil(
          enqueue(tip.id).catch((publishError: unknown) =>
            logger.warn("outbox publish failed; the relay retries it", {
              tipId: tip.id,
              error: String(publishError),
            }),
          ),
        );
        return false;
      }
      // Off the critical path: a row left pending is only re-applied (a no-op) by the relay.
      waitUntil(markOutboxDone(db, tip.id));
      return true;
    },

    applyById,

    async relay() {
      const rows = await listPendingOutbox(db, relayAfter, options.relayBatch ?? 500);
      let published = 0;
      let applied = 0;
      let failed = 0;
      for (const row of rows) {
        try {
          if (await enqueue(row.tipId, row.publishes + 1)) published += 1;
          else {
            await applyById(row.tipId);
            applied += 1;
          }
        } catch (error) {
          failed += 1;
          logger.warn("outbox relay failed for a tip", { tipId: row.tipId, error: String(error) });
        }
      }
      const fanout = options.fanout ? await options.fanout.relay() : { fannedOut: 0, failed: 0 };
      return { published, applied, failed: failed + fanout.failed, fannedOut: fanout.fannedOut };
    },

    pending: () => countPendingOutbox(db),
  };
}
