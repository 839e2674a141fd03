import { formatCount } from "../format.ts";
import type { IdentifierCount, IdentifierOwner } from "../model.ts";

/** Props of {@link IdentifierTable}. */
export interface IdentifierTableProps {
  id: string;
  caption: string;
  rows: readonly IdentifierCount[];
  countLabel: string;
  /** Called with an identifier the operator wants to act on (fills the admin actions' form). */
  onSelect?: ((identifier: string) => void) | undefined;
}

/** Who an identifier belongs to, for people: `alice (user 3)`, `admin token`, or `unknown`. */
export function ownerLabel(owner: IdentifierOwner | null | undefined): string {
  if (!owner) return "unknown";
  return owner.kind === "admin" ? "admin token" : `${owner.username} (user ${owner.userId})`;
}

/**
 * A top-N identifiers table: the hashed identifier, who it belongs to (resolved by the API for the
 * admin), the policy when known, the count, and a button to act on it.
 */
export function IdentifierTable({ id, caption, rows, countLabel, onSelect }: IdentifierTableProps) {
  const withPolicy = rows.some((row) => row.policy !== undefined);
  const columns = 3 + (withPolicy ? 1 : 0) + (onSelect ? 1 : 0);
  return (
    <table className="data-table" data-testid={id}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Identifier</th>
          <th scope="col">Belongs to</th>
          {withPolicy ? <th scope="col">Policy</th> : null}
          <th scope="col" className="num">
            {countLabel}
          </th>
          {onSelect ? (
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={columns} className="state-empty">
              None in this range.
            </td>
          </tr>
        ) : (
          rows.map((row) => (
            <tr key={`${row.policy ?? ""}|${row.identifier}`} data-identifier={row.identifier}>
              <th scope="row" className="mono">
                {row.identifier}
              </th>
              <td data-testid="identifier-owner">{ownerLabel(row.owner)}</td>
              {withPolicy ? <td>{row.policy ?? "–"}</td> : null}
              <td className="num">{formatCount(row.count)}</td>
              {onSelect ? (
                <td>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => onSelect(row.identifier)}
                    aria-label={`Act on ${row.identifier} (${ownerLabel(row.owner)})`}
                  >
                    Act on
                  </button>
                </td>
              ) : null}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
