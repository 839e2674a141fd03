import type { SqlExecutor } from "./database.ts";

/** How an audited admin action ended: `pending` while it runs (or when its end was never recorded). */
export type AuditOutcome = "pending" | "ok" | "error";

/** One row of the admin audit trail. */
export interface AuditEntry {
  id: number;
  /** ISO timestamp (UTC) of the call. */
  at: string;
  /** Who acted (`admin`: the admin bearer token). */
  actor: string;
  /** The procedure path, e.g. `admin.denyList.add`. */
  action: string;
  /** What was acted on (identifier, namespace, tag…), when the action names one. */
  target: string | null;
  /** The input as sent (bounded in size). */
  params: unknown;
  outcome: AuditOutcome;
  /** The error message when the outcome is `error`. */
  error: string | null;
  requestId: string | null;
  durationMs: number | null;
}

/** A row as selected: the entry's fields, with the id as the driver returns a bigint. */
type AuditRow = Omit<AuditEntry, "id"> & { id: string | number };

const AUDIT_COLUMNS = `id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at,
  actor, action, target, params, outcome, error, request_id as "requestId",
  duration_ms as "durationMs"`;

function toEntry(row: AuditRow): AuditEntry {
  const params = typeof row.params === "string" ? (JSON.parse(row.params) as unknown) : row.params;
  return { ...row, id: Number(row.id), params };
}

/** Records that an admin action starts (outcome `pending`); returns the row id. */
export async function insertAuditEntry(
  db: SqlExecutor,
  entry: { actor: string; action: string; paramsJson: string; requestId: string | null },
): Promise<number> {
  const rows = await db.query<{ id: string | number }>(
    `insert into admin_audit (actor, action, params, request_id) values ($1, $2, $3::jsonb, $4)
     returning id`,
    [entry.actor, entry.action, entry.paramsJson, entry.requestId],
  );
  const id = rows[0]?.id;
  if (id === undefined) throw new Error("insert into admin_audit returned no row");
  return Number(id);
}

/** Records how an admin action ended. */
export async function completeAuditEntry(
  db: SqlExecutor,
  id: number,
  end: { outcome: "ok" | "error"; target: string | null; error: string | null; durationMs: number },
): Promise<void> {
  await db.query(
    "update admin_audit set outcome = $2, target = $3, error = $4, duration_ms = $5 where id = $1",
    [id, end.outcome, end.target, end.error, Math.round(end.durationMs)],
  );
}

/** One page of the audit trail, newest first; `before`: only rows with a smaller id (keyset paging). */
export async function listAuditEntries(
  db: SqlExecutor,
  page: { limit: number; before?: number | undefined },
): Promise<AuditEntry[]> {
  const rows = await db.query<AuditRow>(
    `select ${AUDIT_COLUMNS} from admin_audit where ($2::bigint is null or id < $2)
     order by id desc limit $1`,
    [page.limit, page.before ?? null],
  );
  return rows.map(toEntry);
}
