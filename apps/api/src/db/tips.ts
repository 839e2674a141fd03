import type { SqlExecutor } from "./database.ts";

/** A tip as stored (the source of truth for every derived counter). */
export interface Tip {
  id: number;
  streamId: number;
  creatorId: number;
  fromUserId: number;
  /** Decimal text with two places, e.g. `"12.50"`. */
  amount: string;
  /** Amount in cents (exact integer arithmetic for derived counters). */
  amountCents: number;
  createdAt: string;
}

/** A tip row as {@link TIP_COLUMNS} selects it. */
export interface TipRow {
  id: number;
  stream_id: number;
  creator_id: number;
  from_user_id: number;
  amount: string;
  amount_cents: number;
  created_at: string;
}

/** The columns of a {@link TipRow} (tips `t` joined with streams `s`). */
export const TIP_COLUMNS = `t.id, t.stream_id, s.creator_id, t.from_user_id, t.amount::text as amount,
  (t.amount * 100)::int as amount_cents,
  to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at`;

/** Maps a {@link TipRow} to a {@link Tip}. */
export function toTip(row: TipRow): Tip {
  return {
    id: row.id,
    streamId: row.stream_id,
    creatorId: row.creator_id,
    fromUserId: row.from_user_id,
    amount: row.amount,
    amountCents: row.amount_cents,
    createdAt: row.created_at,
  };
}

/**
 * Inserts a tip at most once per (sender, idempotency key): a second insert with the same key
 * returns the existing row with `created: false` (the database is the last line of defence).
 */
export async function insertTipOnce(
  db: SqlExecutor,
  tip: { streamId: number; fromUserId: number; amountCents: number; idempotencyKey: string | null },
): Promise<{ tip: Tip; created: boolean }> {
  const amount = (tip.amountCents / 100).toFixed(2);
  const inserted = await db.query<{ id: number }>(
    `insert into tips (stream_id, from_user_id, amount, idempotency_key) values ($1, $2, $3::numeric, $4)
     on conflict (from_user_id, idempotency_key) where idempotency_key is not null do nothing
     returning id`,
    [tip.streamId, tip.fromUserId, amount, tip.idempotencyKey],
  );
  const insertedId = inserted[0]?.id;
  const rows =
    insertedId !== undefined
      ? await db.query<TipRow>(
          `select ${TIP_COLUMNS} from tips t join streams s on s.id = t.stream_id where t.id = $1`,
          [insertedId],
        )
      : await db.query<TipRow>(
          `select ${TIP_COLUMNS} from tips t join streams s on s.id = t.stream_id
           where t.from_user_id = $1 and t.idempotency_key = $2`,
          [tip.fromUserId, tip.idempotencyKey],
        );
  const row = rows[0];
  if (!row) throw new Error("tip insert returned no row");
  return { tip: toTip(row), created: insertedId !== undefined };
}

/** Counts tips (tests, metrics). */
export async function countTips(
  db: SqlExecutor,
  filter: { streamId?: number } = {},
): Promise<number> {
  const rows =
    filter.streamId === undefined
      ? await db.query<{ n: number }>("select count(*)::int as n from tips")
      : await db.query<{ n: number }>("select count(*)::int as n from tips where stream_id = $1", [
          filter.streamId,
        ]);
  return rows[0]?.n ?? 0;
}

/** Tips with their creator, oldest first (seeding derived data, rebuilds). */
export async function listTips(db: SqlExecutor, limit = 1000): Promise<Tip[]> {
  const rows = await db.query<TipRow>(
    `select ${TIP_COLUMNS} from tips t join streams s on s.id = t.stream_id order by t.id limit $1`,
    [limit],
  );
  return rows.map(toTip);
}

/** The newest tips sent by a user (their own history). */
export async function listTipsByUser(
  db: SqlExecutor,
  userId: number,
  limit: number,
): Promise<Tip[]> {
  const rows = await db.query<TipRow>(
    `select ${TIP_COLUMNS} from tips t join streams s on s.id = t.stream_id
     where t.from_user_id = $1 order by t.id desc limit $2`,
    [userId, limit],
  );
  return rows.map(toTip);
}

/** One tip with its creator, or undefined (the outbox job reads the truth by id). */
export async function findTipById(db: SqlExecutor, id: number): Promise<Tip | undefined> {
  const rows = await db.query<TipRow>(
    `select ${TIP_COLUMNS} from tips t join streams s on s.id = t.stream_id where t.id = $1`,
    [id],
  );
  return rows[0] ? toTip(rows[0]) : undefined;
}
