import type { KeyAreaUsage } from "../model.ts";

/** A key area row with its share of all keys and of all measured memory. */
export interface KeyAreaRow extends KeyAreaUsage {
  keyShare: number;
  /** Share of the measured memory; 0 for an area whose memory is unknown. */
  memoryShare: number;
}

/**
 * Rows sorted by measured memory (largest first; unknown memory after known), then by keys, with
 * their shares.
 */
export function keyAreaRows(areas: readonly KeyAreaUsage[]): KeyAreaRow[] {
  const totalKeys = areas.reduce((sum, a) => sum + a.keys, 0);
  const totalBytes = areas.reduce((sum, a) => sum + (a.bytes ?? 0), 0);
  return areas
    .map((a) => ({
      ...a,
      keyShare: totalKeys > 0 ? a.keys / totalKeys : 0,
      memoryShare: totalBytes > 0 && a.bytes !== null ? a.bytes / totalBytes : 0,
    }))
    .sort(
      (a, b) =>
        (b.bytes ?? -1) - (a.bytes ?? -1) || b.keys - a.keys || a.area.localeCompare(b.area),
    );
}
