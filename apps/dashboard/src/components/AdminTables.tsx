import type { AdminAction, AdminControlsView, QuotaRow } from "../admin-model.ts";
import { confirmQuestion, denyTargetLabel, overrideLabel } from "../data/admin-actions.ts";
import { formatCount, formatDateTime } from "../format.ts";
import { ConfirmButton } from "./ConfirmButton.tsx";

/** Props of {@link QuotaTable}. */
export interface QuotaTableProps {
  identifier: string;
  rows: readonly QuotaRow[];
}

/** An identifier's quota left in every policy (what a reset or an override changes). */
export function QuotaTable({ identifier, rows }: QuotaTableProps) {
  return (
    <table className="data-table" data-testid="quota-table">
      <caption>
        Quota left for <span className="mono">{identifier}</span>
      </caption>
      <thead>
        <tr>
          <th scope="col">Policy</th>
          <th scope="col" className="num">
            Remaining
          </th>
          <th scope="col" className="num">
            Limit
          </th>
          <th scope="col">Window resets</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.policy} data-policy={row.policy}>
            <th scope="row">{row.policy}</th>
            <td className="num" data-testid={`quota-remaining-${row.policy}`}>
              {formatCount(row.remaining)}
            </td>
            <td className="num" data-testid={`quota-limit-${row.policy}`}>
              {formatCount(row.limit)}
            </td>
            <td>{row.reset > 0 ? formatDateTime(row.reset) : "–"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Props of {@link ControlsTables}. */
export interface ControlsTablesProps {
  controls: AdminControlsView;
  busy: boolean;
  onAction: (action: AdminAction) => void;
}

/** One row of a {@link RemovableTable}: its cells and the action its "Remove" runs. */
interface RemovableRow {
  key: string;
  /** The first cell (row header) and the others. */
  cells: [string, ...string[]];
  /** Accessible name of its Remove button (says what is removed). */
  removeLabel: string;
  action: AdminAction;
}

function RemovableTable(props: {
  id: string;
  caption: string;
  headers: string[];
  empty: string;
  rows: RemovableRow[];
  busy: boolean;
  onAction: (action: AdminAction) => void;
}) {
  return (
    <table className="data-table" data-testid={props.id}>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          {props.headers.map((header) => (
            <th key={header} scope="col">
              {header}
            </th>
          ))}
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 ? (
          <tr>
            <td colSpan={props.headers.length + 1} className="state-empty">
              {props.empty}
            </td>
          </tr>
        ) : (
          props.rows.map(({ key, cells: [first, ...rest], removeLabel, action }) => (
            <tr key={key} data-row={key}>
              <th scope="row" className="mono">
                {first}
              </th>
              {rest.map((cell, index) => (
                <td key={index}>{cell}</td>
              ))}
              <td>
                <ConfirmButton
                  label="Remove"
                  ariaLabel={removeLabel}
                  question={confirmQuestion(action)}
                  disabled={props.busy}
                  onConfirm={() => props.onAction(action)}
                />
              </td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

/** The deny list and the overrides in force, each row with a confirmed "Remove". */
export function ControlsTables({ controls, busy, onAction }: ControlsTablesProps) {
  return (
    <div className="split">
      <RemovableTable
        id="deny-list"
        caption="Deny list"
        headers={["Denied"]}
        empty="Nobody is denied."
        busy={busy}
        onAction={onAction}
        rows={controls.denied.map((target) => ({
          key: `${target.kind}:${target.value}`,
          cells: [denyTargetLabel(target)],
          removeLabel: `Remove ${denyTargetLabel(target)} from the deny list`,
          action: { kind: "allow", target },
        }))}
      />
      <RemovableTable
        id="overrides"
        caption="Overrides"
        headers={["Identifier", "Override"]}
        empty="No overrides."
        busy={busy}
        onAction={onAction}
        rows={controls.overrides.map((override) => ({
          key: override.identifier,
          cells: [override.identifier, overrideLabel(override)],
          removeLabel: `Remove the override of ${override.identifier}`,
          action: { kind: "removeOverride", identifier: override.identifier },
        }))}
      />
    </div>
  );
}
