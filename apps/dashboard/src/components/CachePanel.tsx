import { useMemo, useState } from "react";
import { formatCount, formatRatio } from "../format.ts";
import type { CachePoint } from "../model.ts";
import {
  cacheChartRows,
  cacheNamespaces,
  namespaceRows,
  type CacheChartRow,
} from "../shaping/cache-series.ts";
import type { TimeWindow } from "../shaping/time-buckets.ts";
import { Panel } from "./Panel.tsx";
import { SeriesSelect } from "./SeriesSelect.tsx";
import { StackedBars, type StackSeries } from "./StackedBars.tsx";
import { useChartPalette } from "./use-color-scheme.ts";

const SERIES: readonly StackSeries<CacheChartRow>[] = [
  { key: "hit", label: "Hit", color: "hit" },
  { key: "stale", label: "Stale", color: "stale" },
  { key: "miss", label: "Miss", color: "miss" },
];

/** Props of {@link CachePanel}. */
export interface CachePanelProps {
  points: readonly CachePoint[] | undefined;
  window: TimeWindow;
  withSeconds: boolean;
}

/** Cache hit/miss/stale over time per namespace, and the namespaces table sorted by hit ratio. */
export function CachePanel({ points, window, withSeconds }: CachePanelProps) {
  const palette = useChartPalette();
  const [namespace, setNamespace] = useState<string | null>(null);
  const namespaces = useMemo(() => cacheNamespaces(points ?? []), [points]);
  const selected = namespace !== null && namespaces.includes(namespace) ? namespace : null;
  const rows = useMemo(
    () => cacheChartRows(points ?? [], window, selected),
    [points, window, selected],
  );
  const table = useMemo(() => namespaceRows(points ?? []), [points]);
  return (
    <Panel
      id="cache"
      title="Cache"
      loading={points === undefined}
      empty={points !== undefined && table.length === 0 && "No cache lookups in this range yet."}
      actions={
        <SeriesSelect
          label="Namespace"
          options={namespaces}
          value={selected}
          onChange={setNamespace}
          allLabel="All namespaces"
        />
      }
    >
      <StackedBars
        rows={rows}
        series={SERIES}
        palette={palette}
        withSeconds={withSeconds}
        description={`Cache hits, stale hits and misses over time for ${selected ?? "all namespaces"}.`}
      />
      <table className="data-table" data-testid="cache-namespaces">
        <caption>Namespaces by hit ratio</caption>
        <thead>
          <tr>
            <th scope="col">Namespace</th>
            <th scope="col" className="num">
              Hit ratio
            </th>
            <th scope="col" className="num">
              Hits
            </th>
            <th scope="col" className="num">
              Stale
            </th>
            <th scope="col" className="num">
              Misses
            </th>
          </tr>
        </thead>
        <tbody>
          {table.map((row) => (
            <tr key={row.namespace} data-namespace={row.namespace}>
              <th scope="row">{row.namespace}</th>
              <td className="num">{formatRatio(row.hitRatio)}</td>
              <td className="num">{formatCount(row.hit)}</td>
              <td className="num">{formatCount(row.stale)}</td>
              <td className="num">{formatCount(row.miss)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
