import type { KeyAreaUsage } from "../model.ts";

/** A key area row with its share of all keys and of all sampled memory. */
export interface KeyAreaRow extends KeyAreaUsage {
  keyShare: number;
  memoryShare: number;
}

/** Rows sorted by approximate memory (largest first) with their shares; empty areas kept last. */
export function keyAreaRows(areas: readonly KeyAreaUsage[]): KeyAreaRow[] {
  const totalKeys = areas.reduce((sum, a) => sum + a.keys, 0);
  const totalBytes = areas.reduce((sum, a) => sum + a.approxBytes, 0);
  return areas
    .map((a) => ({
      ...a,
      keyShare: totalKeys > 0 ? a.keys / totalKeys : 0,
      memoryShare: totalBytes > 0 ? a.approxBytes / totalBytes : 0,
    }))
    .sort(
      (a, b) => b.approxBytes - a.approxBytes || b.keys - a.keys || a.area.localeCompare(b.area),
    );
}
