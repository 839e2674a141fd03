import type { AuditPaging, AuditRow } from "../admin-model.ts";
import { formatDateTime, formatLatency } from "../format.ts";
import { Panel } from "./Panel.tsx";

const OUTCOME_LABEL: Record<AuditRow["outcome"], string> = {
  ok: "Done",
  error: "Failed",
  pending: "Pending",
};

/** Props of {@link AuditPanel}. */
export interface AuditPanelProps {
  rows: readonly AuditRow[] | undefined;
  paging: AuditPaging;
}

/** "Newer" / "Older" through the trail's pages, shown once there is more than one page. */
function AuditPager({ paging }: { paging: AuditPaging }) {
  if (paging.page === 1 && !paging.hasOlder) return null;
  return (
    <nav className="pager" aria-label="Audit trail pages">
      <button type="button" onClick={paging.onNewer} disabled={paging.page === 1 || paging.loading}>
        Newer
      </button>
      <span className="pager-page" data-testid="audit-page" aria-live="polite">
        Page {paging.page}
      </span>
      <button type="button" onClick={paging.onOlder} disabled={!paging.hasOlder || paging.loading}>
        Older
      </button>
    </nav>
  );
}

/**
 * The admin audit trail as the API keeps it in PostgreSQL (`admin.audit`), newest first, a page
 * at a time: "Older" and "Newer" move through it with the API's cursor.
 */
export function AuditPanel({ rows, paging }: AuditPanelProps) {
  return (
    <Panel
      id="audit"
      title="Audit trail"
      loading={rows === undefined}
      actions={<AuditPager paging={paging} />}
      empty={
        rows !== undefined &&
        rows.length === 0 &&
        (paging.page === 1 ? "No admin action recorded yet." : "No older admin action.")
      }
    >
      <table className="data-table" data-testid="audit-table">
        <caption>
          Every admin action, recorded before it runs (newest first
          {paging.page > 1 ? `, page ${paging.page}` : ""})
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
            <th scope="col" className="num">
              Took
            </th>
          </tr>
        </thead>
        <tbody>
          {(rows ?? []).map((row) => (
            <tr
              key={row.id}
              data-audit-id={row.id}
              data-action={row.action}
              data-outcome={row.outcome}
            >
              <td>{formatDateTime(row.at)}</td>
              <td>{row.actor}</td>
              <th scope="row" className="mono">
                {row.action}
              </th>
              <td className="mono">{row.target ?? "–"}</td>
              <td className={row.outcome === "error" ? "outcome-error" : undefined}>
                {OUTCOME_LABEL[row.outcome]}
                {row.error ? `: ${row.error}` : ""}
              </td>
              <td className="num">{formatLatency(row.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
