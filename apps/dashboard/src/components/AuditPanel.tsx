import type { AuditRow } from "../admin-model.ts";
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
}

/** The admin audit trail as the API keeps it in PostgreSQL (`admin.audit`), newest first. */
export function AuditPanel({ rows }: AuditPanelProps) {
  return (
    <Panel
      id="audit"
      title="Audit trail"
      loading={rows === undefined}
      empty={rows !== undefined && rows.length === 0 && "No admin action recorded yet."}
    >
      <table className="data-table" data-testid="audit-table">
        <caption>Every admin action, recorded before it runs (newest first)</caption>
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
