import { formatCount } from "../format.ts";
import type { IdentifierCount } from "../model.ts";

/** Props of {@link IdentifierTable}. */
export interface IdentifierTableProps {
  id: string;
  caption: string;
  rows: readonly IdentifierCount[];
  countLabel: string;
}

/** A top-N identifiers table (identifier, policy, count). */
export function IdentifierTable({ id, caption, rows, countLabel }: IdentifierTableProps) {
  const withPolicy = rows.some((row) => row.policy !== undefined);
  return (
    <table className="data-table" data-testid={id}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Identifier</th>
          {withPolicy ? <th scope="col">Policy</th> : null}
          <th scope="col" className="num">
            {countLabel}
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={withPolicy ? 3 : 2} className="state-empty">
              None in this range.
            </td>
          </tr>
        ) : (
          rows.map((row) => (
            <tr key={`${row.policy ?? ""}|${row.identifier}`}>
              <th scope="row" className="mono">
                {row.identifier}
              </th>
              {withPolicy ? <td>{row.policy ?? "–"}</td> : null}
              <td className="num">{formatCount(row.count)}</td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
