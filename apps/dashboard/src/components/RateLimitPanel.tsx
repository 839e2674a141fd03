import { useMemo, useState } from "react";
import { formatCount } from "../format.ts";
import type { IdentifierCount, RateLimitPoint } from "../model.ts";
import {
  policyTotals,
  rateLimitChartRows,
  rateLimitPolicies,
  type RateLimitChartRow,
} from "../shaping/rate-limit-series.ts";
import type { TimeWindow } from "../shaping/time-buckets.ts";
import { IdentifierTable } from "./IdentifierTable.tsx";
import { Panel } from "./Panel.tsx";
import { SeriesSelect } from "./SeriesSelect.tsx";
import { StackedBars, type StackSeries } from "./StackedBars.tsx";
import { useChartPalette } from "./use-color-scheme.ts";

const SERIES: readonly StackSeries<RateLimitChartRow>[] = [
  { key: "allowed", label: "Allowed", color: "allowed" },
  { key: "blocked", label: "Blocked", color: "blocked" },
];

/** Props of {@link RateLimitPanel}. */
export interface RateLimitPanelProps {
  points: readonly RateLimitPoint[] | undefined;
  topBlocked: readonly IdentifierCount[] | undefined;
  topAllowed: readonly IdentifierCount[] | undefined;
  window: TimeWindow;
  withSeconds: boolean;
  /** Picks an identifier for the admin actions ("Act on" in the identifier tables). */
  onSelectIdentifier?: ((identifier: string) => void) | undefined;
}

/** Allowed vs blocked over time per policy (stacked), per-policy totals, top blocked and allowed identifiers. */
export function RateLimitPanel({
  points,
  topBlocked,
  topAllowed,
  window,
  withSeconds,
  onSelectIdentifier,
}: RateLimitPanelProps) {
  const palette = useChartPalette();
  const [policy, setPolicy] = useState<string | null>(null);
  const policies = useMemo(() => rateLimitPolicies(points ?? []), [points]);
  const selected = policy !== null && policies.includes(policy) ? policy : null;
  const rows = useMemo(
    () => rateLimitChartRows(points ?? [], window, selected),
    [points, window, selected],
  );
  const totals = useMemo(() => policyTotals(points ?? []), [points]);
  return (
    <Panel
      id="ratelimit"
      title="Rate limits"
      loading={points === undefined}
      empty={
        points !== undefined && totals.length === 0 && "No rate-limit decisions in this range yet."
      }
      actions={
        <SeriesSelect
          label="Policy"
          options={policies}
          value={selected}
          onChange={setPolicy}
          allLabel="All policies"
        />
      }
    >
      <StackedBars
        rows={rows}
        series={SERIES}
        palette={palette}
        withSeconds={withSeconds}
        description={`Allowed and blocked requests over time for ${selected ?? "all policies"}.`}
      />
      <table className="data-table" data-testid="ratelimit-policies">
        <caption>Decisions per policy</caption>
        <thead>
          <tr>
            <th scope="col">Policy</th>
            <th scope="col" className="num">
              Allowed
            </th>
            <th scope="col" className="num">
              Blocked
            </th>
          </tr>
        </thead>
        <tbody>
          {totals.map((row) => (
            <tr key={row.policy} data-policy={row.policy}>
              <th scope="row">{row.policy}</th>
              <td className="num">{formatCount(row.allowed)}</td>
              <td className="num" data-testid={`policy-blocked-${row.policy}`}>
                {formatCount(row.blocked)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="split">
        <IdentifierTable
          id="top-blocked"
          caption="Top blocked identifiers"
          rows={topBlocked ?? []}
          countLabel="Blocked"
          onSelect={onSelectIdentifier}
        />
        <IdentifierTable
          id="top-allowed"
          caption="Top allowed identifiers"
          rows={topAllowed ?? []}
          countLabel="Allowed"
          onSelect={onSelectIdentifier}
        />
      </div>
    </Panel>
  );
}
