import type { SqlExecutor } from "./database.ts";

/** A tip whose projections are not applied yet. */
export interface PendingOutboxRow {
  tipId: number;
  /** How many times the row was handed to the job queue. */
  publishes: number;
  createdAt: string;
}

/** Adds the outbox row of a tip (call inside the tip's transaction). */
export async function insertOutboxRow(tx: SqlExecutor, tipId: number): Promise<void> {
  await tx.query("insert into tip_outbox (tip_id) values ($1) on conflict do nothing", [tipId]);
}

/** Marks a tip's projections applied; true when this call changed the row. */
export async function markOutboxDone(db: SqlExecutor, tipId: number): Promise<boolean> {
  const rows = await db.query<{ tip_id: number }>(
    `update tip_outbox set state = 'done', done_at = now()
     where tip_id = $1 and state = 'pending' returning tip_id`,
    [tipId],
  );
  return rows.length > 0;
}

/** Records that a pending row was handed to the job queue. */
export async function markOutboxPublished(db: SqlExecutor, tipId: number): Promise<void> {
  await db.query(
    "update tip_outbox set publishes = publishes + 1, published_at = now() where tip_id = $1",
    [tipId],
  );
}

/** A tip whose fan-out (the notify-follower batch) is not done yet. */
export interface PendingFanoutRow {
  id: number;
  creatorId: number;
  fromUserId: number;
}

/** Marks a tip's fan-out done; true when this call changed the row. */
export async function markFanoutDone(db: SqlExecutor, tipId: number): Promise<boolean> {
  const rows = await db.query<{ tip_id: number }>(
    `update tip_outbox set fanout_done_at = now()
     where tip_id = $1 and fanout_done_at is null returning tip_id`,
    [tipId],
  );
  return rows.length > 0;
}

/** Tips whose fan-out is pending, committed at least `olderThanSeconds` ago, oldest first. */
export async function listPendingFanout(
  db: SqlExecutor,
  olderThanSeconds: number,
  limit: number,
): Promise<PendingFanoutRow[]> {
  const rows = await db.query<{ tip_id: number; creator_id: number; from_user_id: number }>(
    `select o.tip_id, s.creator_id, t.from_user_id
     from tip_outbox o join tips t on t.id = o.tip_id join streams s on s.id = t.stream_id
     where o.fanout_done_at is null and o.created_at <= now() - ($1::int * interval '1 second')
     order by o.created_at limit $2`,
    [olderThanSeconds, limit],
  );
  return rows.map((row) => ({
    id: row.tip_id,
    creatorId: row.creator_id,
    fromUserId: row.from_user_id,
  }));
}

/** Pending rows created at least `olderThanSeconds` ago, oldest first. */
export async function listPendingOutbox(
  db: SqlExecutor,
  olderThanSeconds: number,
  limit: number,
): Promise<PendingOutboxRow[]> {
  const rows = await db.query<{ tip_id: number; publishes: number; created_at: string }>(
    `select tip_id, publishes,
       to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
     from tip_outbox
     where state = 'pending' and created_at <= now() - ($1::int * interval '1 second')
     order by created_at limit $2`,
    [olderThanSeconds, limit],
  );
  return rows.map((row) => ({
    tipId: row.tip_id,
    publishes: row.publishes,
    createdAt: row.created_at,
  }));
}

/** Number of pending rows. */
export async function countPendingOutbox(db: SqlExecutor): Promise<number> {
  const rows = await db.query<{ n: number }>(
    "select count(*)::int as n from tip_outbox where state = 'pending'",
  );
  return rows[0]?.n ?? 0;
}

/**
 * Rows whose projections are pending and the age of the oldest one in seconds (`null` when none
 * is pending), and the tips whose fan-out is pending (`fanoutPending`), in one statement.
 */
export async function pendingOutboxSummary(
  db: SqlExecutor,
): Promise<{ pending: number; oldestAgeSeconds: number | null; fanoutPending: number }> {
  const rows = await db.query<{ n: number; oldest: number | null; fanout: number }>(
    `select count(*) filter (where state = 'pending')::int as n,
       extract(epoch from now() - min(created_at) filter (where state = 'pending'))::float8 as oldest,
       count(*) filter (where fanout_done_at is null)::int as fanout
     from tip_outbox where state = 'pending' or fanout_done_at is null`,
  );
  const row = rows[0];
  return {
    pending: row?.n ?? 0,
    oldestAgeSeconds: row?.oldest == null ? null : Math.max(0, Math.floor(Number(row.oldest))),
    fanoutPending: row?.fanout ?? 0,
  };
}
