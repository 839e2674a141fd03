import { useMemo } from "react";
import { formatBytes, formatCount, formatRatio } from "../format.ts";
import type { KeyUsage } from "../model.ts";
import { keyAreaRows } from "../shaping/key-areas.ts";
import { Panel } from "./Panel.tsx";

/** Shown instead of a size where the API could not measure memory. */
export const MEMORY_NOT_AVAILABLE = "not available";

/** Props of {@link KeysPanel}. */
export interface KeysPanelProps {
  keys: KeyUsage | undefined;
}

function memoryCaption(keys: KeyUsage): string {
  const counted = keys.sampled ? "Keys from a bounded SCAN sample" : "Keys counted with SCAN";
  return keys.memory.available
    ? `${counted}; memory measured with MEMORY USAGE on up to ${formatCount(keys.memory.keysPerArea)} keys per area, scaled to the area's keys`
    : `${counted}; memory not available: ${keys.memory.reason}`;
}

/**
 * Key distribution by area: counts and memory as the API measured it (`MEMORY USAGE` on a bounded
 * sample), with a bar of the memory share; "not available" where the API could not measure.
 */
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
        <caption data-testid="keys-caption">{keys ? memoryCaption(keys) : null}</caption>
        <thead>
          <tr>
            <th scope="col">Area</th>
            <th scope="col" className="num">
              Keys
            </th>
            <th scope="col" className="num">
              Memory
            </th>
            <th scope="col" className="num">
              Measured keys
            </th>
            <th scope="col">Share of memory</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.area} data-area={row.area}>
              <th scope="row">{row.area}</th>
              <td className="num">{formatCount(row.keys)}</td>
              <td className="num" data-testid={`memory-${row.area}`}>
                {row.bytes === null ? MEMORY_NOT_AVAILABLE : formatBytes(row.bytes)}
              </td>
              <td className="num">{formatCount(row.measuredKeys)}</td>
              <td>
                {row.bytes === null ? null : (
                  <span className="share-bar" aria-label={formatRatio(row.memoryShare)}>
                    <span style={{ width: `${(row.memoryShare * 100).toFixed(1)}%` }} />
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
