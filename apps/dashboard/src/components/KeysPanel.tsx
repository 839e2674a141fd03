import { useMemo } from "react";
import { formatBytes, formatCount, formatRatio } from "../format.ts";
import type { KeyAreaUsage } from "../model.ts";
import { keyAreaRows } from "../shaping/key-areas.ts";
import { Panel } from "./Panel.tsx";

/** Props of {@link KeysPanel}. */
export interface KeysPanelProps {
  keys: { areas: readonly KeyAreaUsage[]; sampled: boolean } | undefined;
}

/** Key distribution by area: counts and approximate memory, with a bar of the memory share. */
export function KeysPanel({ keys }: KeysPanelProps) {
  const rows = useMemo(() => keyAreaRows(keys?.areas ?? []), [keys]);
  return (
    <Panel
      id="keys"
      title="Keys by area"
      loading={keys === undefined}
      empty={keys !== undefined && rows.length === 0 && "No keys found."}
    >
      <table className="data-table" data-testid="keys-table">
        <caption>
          {keys?.sampled ? "Estimated from a bounded SCAN sample" : "Counted with SCAN"}
        </caption>
        <thead>
          <tr>
            <th scope="col">Area</th>
            <th scope="col" className="num">
              Keys
            </th>
            <th scope="col" className="num">
              ≈ Memory
            </th>
            <th scope="col">Share of memory</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.area} data-area={row.area}>
              <th scope="row">{row.area}</th>
              <td className="num">{formatCount(row.keys)}</td>
              <td className="num">{formatBytes(row.approxBytes)}</td>
              <td>
                <span className="share-bar" aria-label={formatRatio(row.memoryShare)}>
                  <span style={{ width: `${(row.memoryShare * 100).toFixed(1)}%` }} />
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
