import type { Database } from "../../src/db/database.ts";
import { insertOutboxRow } from "../../src/db/outbox.ts";
import { insertTipOnce, type Tip } from "../../src/db/tips.ts";

/**
 * Commits a tip with its outbox row and applies nothing to Redis: the state after a commit whose
 * projections failed (Redis down, the process gone), before the job or the relay delivers it.
 */
export async function insertPendingTip(
  db: Database,
  tip: { streamId: number; fromUserId: number; amountCents: number; idempotencyKey: string },
): Promise<Tip> {
  return db.transaction(async (tx) => {
    const inserted = await insertTipOnce(tx, tip);
    await insertOutboxRow(tx, inserted.tip.id);
    return inserted.tip;
  });
}
