import type { SqlExecutor } from "./database.ts";

/** One entry of a user's notification feed: a tip to a creator they follow. */
export interface TipNotification {
  id: number;
  tipId: number;
  streamId: number;
  creatorId: number;
  creatorUsername: string;
  fromUserId: number;
  /** Decimal text with two places. */
  amount: string;
  /** When the tip was made. */
  tippedAt: string;
  /** When the notification was written. */
  notifiedAt: string;
}

/**
 * Writes the notification of `tipId` into `userId`'s feed, at most once per (user, tip): true
 * when written now, false when it was already there or the tip does not exist.
 */
export async function insertTipNotification(
  db: SqlExecutor,
  userId: number,
  tipId: number,
): Promise<boolean> {
  const rows = await db.query<{ id: number }>(
    `insert into notifications (user_id, tip_id)
     select $1, t.id from tips t where t.id = $2
     on conflict (user_id, tip_id) do nothing returning id`,
    [userId, tipId],
  );
  return rows.length > 0;
}

/**
 * Writes the notification of a tip into the feed of every follower of its creator (but the
 * tipper) in one statement; returns how many were written (the in-process path without QStash).
 */
export async function insertTipNotificationsForFollowers(
  db: SqlExecutor,
  tipId: number,
): Promise<number> {
  const rows = await db.query<{ id: number }>(
    `insert into notifications (user_id, tip_id)
     select f.follower_id, t.id from tips t
       join streams s on s.id = t.stream_id
       join follows f on f.creator_id = s.creator_id and f.follower_id <> t.from_user_id
     where t.id = $1
     on conflict (user_id, tip_id) do nothing returning id`,
    [tipId],
  );
  return rows.length;
}

/** The newest notifications of a user, newest first. */
export async function listNotifications(
  db: SqlExecutor,
  userId: number,
  limit: number,
): Promise<TipNotification[]> {
  const rows = await db.query<{
    id: string | number;
    tip_id: number;
    stream_id: number;
    creator_id: number;
    creator_username: string;
    from_user_id: number;
    amount: string;
    tipped_at: string;
    notified_at: string;
  }>(
    `select n.id, t.id as tip_id, t.stream_id, s.creator_id, u.username as creator_username,
       t.from_user_id, t.amount::text as amount,
       to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as tipped_at,
       to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as notified_at
     from notifications n
       join tips t on t.id = n.tip_id
       join streams s on s.id = t.stream_id
       join users u on u.id = s.creator_id
     where n.user_id = $1 order by n.id desc limit $2`,
    [userId, limit],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    tipId: row.tip_id,
    streamId: row.stream_id,
    creatorId: row.creator_id,
    creatorUsername: row.creator_username,
    fromUserId: row.from_user_id,
    amount: row.amount,
    tippedAt: row.tipped_at,
    notifiedAt: row.notified_at,
  }));
}
