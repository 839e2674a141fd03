import type { Database, SqlExecutor } from "./database.ts";
import { TIP_COLUMNS, toTip, type Tip, type TipRow } from "./tips.ts";

/** A half-open time range `[from, to)` as ISO timestamps (`"-infinity"` / `"infinity"` allowed). */
export interface TimeRange {
  from: string;
  to: string;
}

/**
 * Runs `fn` in one REPEATABLE READ transaction: every query sees the same snapshot, so the
 * boards, counters and feeds a rebuild reads all agree with each other.
 */
export async function readSnapshot<T>(
  db: Database,
  fn: (tx: SqlExecutor) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query("set transaction isolation level repeatable read, read only");
    return fn(tx);
  });
}

/** Cents tipped per member in a time range: per creator (`creators`) or per sender (`tippers`). */
export async function tipTotalsBy(
  tx: SqlExecutor,
  board: "creators" | "tippers",
  range: TimeRange,
): Promise<Map<string, number>> {
  const member = board === "creators" ? "s.creator_id" : "t.from_user_id";
  const rows = await tx.query<{ member: number; cents: string | number }>(
    `select ${member} as member, sum((t.amount * 100)::int)::bigint as cents
     from tips t join streams s on s.id = t.stream_id
     where t.created_at >= $1::timestamptz and t.created_at < $2::timestamptz
     group by 1`,
    [range.from, range.to],
  );
  return new Map(rows.map((row) => [String(row.member), Number(row.cents)]));
}

/** Tips received per creator per UTC day (`YYYYMMDD`) since `from`: count and cents. */
export async function tipCountsByCreatorDay(
  tx: SqlExecutor,
  from: string,
): Promise<{ creatorId: number; day: string; count: number; cents: number }[]> {
  const rows = await tx.query<{ creator_id: number; day: string; n: number; cents: string }>(
    `select s.creator_id, to_char(t.created_at at time zone 'UTC', 'YYYYMMDD') as day,
       count(*)::int as n, sum((t.amount * 100)::int)::bigint as cents
     from tips t join streams s on s.id = t.stream_id
     where t.created_at >= $1::timestamptz
     group by 1, 2`,
    [from],
  );
  return rows.map((row) => ({
    creatorId: row.creator_id,
    day: row.day,
    count: row.n,
    cents: Number(row.cents),
  }));
}

/** Ids of the users that own a stream (whose 30-day counters exist). */
export async function listCreatorIds(tx: SqlExecutor): Promise<number[]> {
  const rows = await tx.query<{ id: number }>(
    "select distinct creator_id as id from streams order by 1",
  );
  return rows.map((row) => row.id);
}

/**
 * The newest `limit` tips of every user's activity feed (tips they received or sent), newest
 * first, keyed by user id; key 0 holds the newest `limit` tips of everyone (the global feed).
 * A tip a user both sent and received is listed twice, as the live apply pushes it twice.
 */
export async function listFeedTips(tx: SqlExecutor, limit: number): Promise<Map<number, Tip[]>> {
  const rows = await tx.query<TipRow & { feed_user: number }>(
    `with involved as (
       select t.id as tip_id, s.creator_id as feed_user
       from tips t join streams s on s.id = t.stream_id
       union all
       select t.id, t.from_user_id from tips t
     ), ranked as (
       select feed_user, tip_id,
         row_number() over (partition by feed_user order by tip_id desc) as position
       from involved
     )
     select r.feed_user, ${TIP_COLUMNS}
     from ranked r join tips t on t.id = r.tip_id join streams s on s.id = t.stream_id
     where r.position <= $1
     union all
     select * from (
       select 0 as feed_user, ${TIP_COLUMNS}
       from tips t join streams s on s.id = t.stream_id
       order by t.id desc limit $1
     ) newest
     order by feed_user, id desc`,
    [limit],
  );
  const feeds = new Map<number, Tip[]>();
  for (const row of rows) {
    const list = feeds.get(row.feed_user) ?? [];
    list.push(toTip(row));
    feeds.set(row.feed_user, list);
  }
  return feeds;
}

/** A tip whose outbox row is still pending: what its "applied" markers are named by. */
export interface PendingTip {
  id: number;
  creatorId: number;
  fromUserId: number;
}

/** Number of tips, and those whose outbox row is still pending (may be applied later). */
export async function tipCountAndPending(
  tx: SqlExecutor,
): Promise<{ tips: number; pendingTips: PendingTip[] }> {
  const count = await tx.query<{ n: number }>("select count(*)::int as n from tips");
  const pending = await tx.query<{ tip_id: number; creator_id: number; from_user_id: number }>(
    `select o.tip_id, s.creator_id, t.from_user_id
     from tip_outbox o join tips t on t.id = o.tip_id join streams s on s.id = t.stream_id
     where o.state = 'pending' order by o.tip_id`,
  );
  return {
    tips: count[0]?.n ?? 0,
    pendingTips: pending.map((row) => ({
      id: row.tip_id,
      creatorId: row.creator_id,
      fromUserId: row.from_user_id,
    })),
  };
}
