import type { Database, SqlExecutor } from "./database.ts";

/** Tips received by one creator on one UTC day. */
export interface DailyCreatorTips {
  creatorId: number;
  username: string;
  tips: number;
  cents: number;
}

/** The stored report of one UTC day. */
export interface DailyReportRow {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  tips: number;
  cents: number;
  computedAt: string;
  /** Most cents first. */
  creators: DailyCreatorTips[];
}

/**
 * Computes the tips per creator of one UTC day from the tips table and stores it, replacing a
 * previous computation of that day (one transaction: readers see the old or the new report).
 */
export async function computeDailyReport(db: Database, day: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query("delete from daily_report_days where day = $1::date", [day]);
    await tx.query(
      `insert into daily_report_days (day, tips, cents)
       select $1::date, count(*)::int, coalesce(sum((t.amount * 100)::bigint), 0)
       from tips t
       where t.created_at >= ($1::date)::timestamp at time zone 'UTC'
         and t.created_at < ($1::date + 1)::timestamp at time zone 'UTC'`,
      [day],
    );
    await tx.query(
      `insert into daily_report_creators (day, creator_id, tips, cents)
       select $1::date, s.creator_id, count(*)::int, sum((t.amount * 100)::bigint)
       from tips t join streams s on s.id = t.stream_id
       where t.created_at >= ($1::date)::timestamp at time zone 'UTC'
         and t.created_at < ($1::date + 1)::timestamp at time zone 'UTC'
       group by s.creator_id`,
      [day],
    );
  });
}

/** The stored report of a UTC day, or `null` when that day was never computed. */
export async function readDailyReport(
  db: SqlExecutor,
  day: string,
): Promise<DailyReportRow | null> {
  const days = await db.query<{ tips: number; cents: string | number; computed_at: string }>(
    `select tips, cents,
       to_char(computed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as computed_at
     from daily_report_days where day = $1::date`,
    [day],
  );
  const head = days[0];
  if (!head) return null;
  const rows = await db.query<{
    creator_id: number;
    username: string;
    tips: number;
    cents: string | number;
  }>(
    `select r.creator_id, u.username, r.tips, r.cents
     from daily_report_creators r join users u on u.id = r.creator_id
     where r.day = $1::date order by r.cents desc, r.creator_id`,
    [day],
  );
  return {
    day,
    tips: head.tips,
    cents: Number(head.cents),
    computedAt: head.computed_at,
    creators: rows.map((row) => ({
      creatorId: row.creator_id,
      username: row.username,
      tips: row.tips,
      cents: Number(row.cents),
    })),
  };
}
